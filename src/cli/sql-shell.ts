/**
 * The interactive `sluice sql` prompt (node:readline, with history kept in the data directory).
 * CREATE/DROP/SHOW/DESCRIBE/EXPLAIN work on the session's catalog; a SELECT runs at once as a
 * bounded query over what the sources hold now (every window fired) and prints its rows as a
 * table. Materialized views and sinks run continuously with `sluice sql -f FILE.sql`.
 */
import { mkdirSync, readFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AppBuilder } from '../api/index.ts';
import { Sluice } from '../sluice.ts';
import { endsStatement, loadParser, parseScript, type Row, SqlSession, splitStatements } from '../sql/index.ts';
import { printJson, write } from './format.ts';
import { errorText, resultText, rowsTable } from './sql-output.ts';

export interface ShellOptions {
  dataDir: string;
  json: boolean;
  name?: string;
}

const HELP = `Statements end with ;. For example:
  CREATE SOURCE page_views (page TEXT, event_time TIMESTAMP,
    WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND) WITH (topic = 'page_views');
  SELECT page, TUMBLE_START(event_time, INTERVAL '1' MINUTE) AS window_start, COUNT(*) AS view_count
    FROM page_views GROUP BY page, TUMBLE(event_time, INTERVAL '1' MINUTE);
  SHOW SOURCES;  SHOW TABLES;  DESCRIBE page_views;  EXPLAIN SELECT ...;
A SELECT runs over what the sources hold now. \\q quits, \\? shows this.
`;

export async function runShell(options: ShellOptions): Promise<void> {
  await loadParser();
  const interactive = process.stdin.isTTY === true;
  const historyFile = join(options.dataDir, 'sql_history');
  let history: string[] = [];
  try {
    history = readFileSync(historyFile, 'utf8').split('\n').filter(Boolean).reverse().slice(0, 1000);
  } catch {
    // no history yet
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: interactive, history, historySize: 1000, removeHistoryDuplicates: true });
  const catalog = new SqlSession(new AppBuilder({ name: options.name ?? 'sql' }), { definitionsOnly: true });
  const shellApp = options.name ?? `sql-shell-${process.pid}`;
  /** The definitions made so far, replayed into each query's app. */
  const definitions: string[] = [];
  let ranQuery = false;
  let buffer = '';
  const prompt = (): void => {
    if (!interactive) return;
    rl.setPrompt(buffer === '' ? 'sluice> ' : '   ...> ');
    rl.prompt();
  };
  rl.on('SIGINT', () => {
    if (buffer === '') rl.close();
    else {
      buffer = '';
      process.stdout.write('\n');
      prompt();
    }
  });
  if (interactive) process.stdout.write('sluice sql: streaming SQL on the embedded log. \\? for help, \\q to quit.\n');
  prompt();
  for await (const line of rl) {
    const trimmed = line.trim();
    if (buffer === '' && (trimmed === '\\q' || trimmed === 'quit' || trimmed === 'exit')) break;
    if (buffer === '' && (trimmed === '\\?' || trimmed === 'help')) {
      process.stdout.write(HELP);
      prompt();
      continue;
    }
    buffer += `${buffer === '' ? '' : '\n'}${line}`;
    if (!endsStatement(buffer)) {
      prompt();
      continue;
    }
    const text = buffer;
    buffer = '';
    if (interactive) {
      try {
        mkdirSync(options.dataDir, { recursive: true });
        appendFileSync(historyFile, `${text.replace(/\n/g, ' ')}\n`);
      } catch {
        // history is a convenience: a read-only data directory only loses it
      }
    }
    try {
      for (const part of splitStatements(text)) {
        const one = text.slice(part.start, part.end);
        const [statement] = parseScript(one);
        if (statement === undefined) continue;
        if (statement.kind === 'query') {
          ranQuery = true;
          await runQuery(one, definitions, shellApp, options);
        } else {
          for (const result of catalog.executeLoaded(one)) {
            if (options.json) await printJson({ tag: result.tag, message: result.message, ...(result.rows ? { rows: result.rows } : {}) });
            else await write(resultText(result));
          }
          if (statement.kind !== 'show' && statement.kind !== 'describe' && statement.kind !== 'explain') definitions.push(one);
        }
      }
    } catch (error) {
      process.stderr.write(errorText(error));
    }
    prompt();
  }
  rl.close();
  if (ranQuery) {
    const { resetApp } = await import('../checkpoint/reset.ts');
    await resetApp(options.dataDir, shellApp);
  }
}

/** Runs one SELECT as a bounded app over the sources' current contents; prints its rows. */
async function runQuery(text: string, definitions: string[], name: string, options: ShellOptions): Promise<void> {
  const rows: Row[] = [];
  const app = new Sluice({ name, dataDir: options.dataDir, print: (line) => rows.push(JSON.parse(line) as Row) });
  const session = new SqlSession(app, { definitionsOnly: true, onQuery: (stream) => stream.print() });
  if (definitions.length > 0) session.executeLoaded(`${definitions.join(';\n')};`);
  const [result] = session.executeLoaded(text);
  await app.run({ bounded: true, fromBeginning: true });
  const columns = result?.columns?.map((c) => c.name) ?? [];
  // A grouped query's rows are updates: the table shows each key's last one.
  const pk = result?.primaryKey;
  const shown = pk === undefined ? rows : [...new Map(rows.map((r) => [JSON.stringify(pk.map((k) => r[k])), r])).values()];
  if (options.json) for (const row of shown) await printJson(row);
  else await write(rowsTable(columns, shown));
}
