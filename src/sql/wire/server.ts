/**
 * The Postgres wire protocol server: psql, node `pg`, psycopg and JDBC connect and read the
 * materialized views of a running SQL app. It answers the startup (SSL refused, no password on
 * loopback, a cleartext password otherwise), the simple query protocol ('Q') and the extended
 * one (Parse, Bind, Describe, Execute, Close, Sync, Flush). Written here rather than on
 * pg-gateway, whose latest release (0.2.4) mis-frames a second message in one TCP chunk, which
 * the extended protocol always sends.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { isSluiceError, SluiceError } from '../../core/index.ts';
import { SqlError, sqlError } from '../errors.ts';
import { splitStatements } from '../lexer.ts';
import { loadParser, nodeKind, parseStatement } from '../pg.ts';
import type { SqlSession } from '../session.ts';
import {
  authentication,
  bindComplete,
  closeComplete,
  commandComplete,
  dataRow,
  emptyQuery,
  errorResponse,
  fatal,
  MessageReader,
  noData,
  parameterDescription,
  parameterStatus,
  parseComplete,
  readyForQuery,
  rowDescription,
  textValue,
  type WireColumn,
} from './messages.ts';
import { catalogQuery, isCatalogQuery } from './pg-catalog.ts';
import { type ReadResult, readQuery } from './read.ts';
import { type ViewLog, ViewTable } from './tables.ts';

export interface WireServerOptions {
  host: string;
  port: number;
  /** Required for any address but loopback; clients send it as their password (cleartext, so keep it to trusted networks). */
  password?: string;
  session: SqlSession;
  log: ViewLog;
}

export interface WireServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** What a statement answers: a result with rows, or just a command tag. */
type Answer = { kind: 'rows'; result: ReadResult; tag: string } | { kind: 'command'; tag: string } | { kind: 'empty' };

/** Starts the server; resolves once it listens. */
export async function startWireServer(options: WireServerOptions): Promise<WireServer> {
  if (!LOOPBACK.has(options.host) && options.password === undefined) {
    throw new SluiceError('INVALID_ARGUMENT', `--listen ${options.host}: an address other than loopback (127.0.0.1) needs a password; pass --password or set SLUICE_SQL_PASSWORD`);
  }
  await loadParser();
  const tables = new Map<string, ViewTable>();
  const answer = async (text: string, params: readonly (string | null)[]): Promise<Answer[]> => {
    // psql's catalog queries use operators (!~) the front lexer does not know: answered whole.
    if (isCatalogQuery(text)) {
      const result = catalogQuery(text, options.session.definitions);
      return [{ kind: 'rows', tag: `SELECT ${result.rows.length}`, result }];
    }
    const answers: Answer[] = [];
    for (const part of splitStatements(text)) answers.push(await answerOne(text, part.start, part.end, params, options, tables));
    return answers.length === 0 ? [{ kind: 'empty' }] : answers;
  };
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    serveConnection(socket, options.password, answer);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new SluiceError('INVALID_ARGUMENT', `--listen ${options.host}:${options.port}: the port is in use; pick another`, { cause: error }) : error),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    address: `${options.host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function answerOne(text: string, start: number, end: number, params: readonly (string | null)[], options: WireServerOptions, tables: Map<string, ViewTable>): Promise<Answer> {
  const words = text.slice(start, end).trim().toLowerCase().split(/\s+/);
  const first = words[0];
  if (first === 'set' || first === 'reset' || first === 'discard' || first === 'deallocate') return { kind: 'command', tag: first.toUpperCase() };
  if (first === 'begin' || first === 'start') return { kind: 'command', tag: 'BEGIN' };
  if (first === 'commit' || first === 'end' || first === 'rollback') return { kind: 'command', tag: first === 'rollback' ? 'ROLLBACK' : 'COMMIT' };
  if (first === 'show' && !['sources', 'tables', 'views', 'sinks', 'materialized'].includes(words[1] ?? '')) {
    // SHOW server_version and friends, as drivers ask.
    const name = (words[1] ?? '').replace(/;$/, '');
    const values: Record<string, string> = { server_version: '16.0', transaction_isolation: 'read committed', standard_conforming_strings: 'on', client_encoding: 'UTF8', timezone: 'UTC' };
    return { kind: 'rows', tag: 'SHOW', result: { columns: [{ name, type: 'text' }], rows: [[values[name] ?? '']] } };
  }
  if (first === 'show' || first === 'describe' || first === 'desc') {
    const [result] = options.session.executeLoaded(text.slice(start, end));
    const columns: WireColumn[] = result!.columns ?? [];
    return { kind: 'rows', tag: `SELECT ${result!.rows?.length ?? 0}`, result: { columns, rows: (result!.rows ?? []).map((r) => columns.map((c) => r[c.name])) } };
  }
  const stmt = parseStatement(text, start, end);
  const [kind, select] = nodeKind(stmt);
  if (kind !== 'SelectStmt') throw sqlError(text, start, `${kind.replace(/Stmt$/, '').toUpperCase()} is not served here: clients read views with SELECT; views, sources and sinks are declared in the app's .sql file`, 'SQL_UNSUPPORTED');
  const result = readQuery(
    text,
    select,
    (name, at) => {
      const def = options.session.definitions.find((d) => d.name === name);
      const readable = def?.kind === 'table' ? { ...def, changelog: true } : def?.kind === 'view' && def.materialized ? def : undefined;
      if (readable === undefined) {
        const views = options.session.definitions.filter((d) => (d.kind === 'view' && d.materialized) || d.kind === 'table').map((d) => d.name);
        throw sqlError(text, at, `there is no materialized view or table named ${name}${views.length ? ` (there are: ${views.join(', ')})` : ''}`);
      }
      let table = tables.get(name);
      if (table === undefined) tables.set(name, (table = new ViewTable(readable)));
      return table;
    },
    params,
  );
  // Catch up every table read, then read again: the rows are those committed when the query ran.
  for (const t of tables.values()) await t.catchUp(options.log);
  const fresh = readQuery(text, select, (name) => tables.get(name)!, params);
  return { kind: 'rows', tag: `SELECT ${fresh.rows.length}`, result: result.columns.length === fresh.columns.length ? fresh : result };
}

/** A failure as an ErrorResponse: SQL errors with their SQLSTATE and 1-based position. */
function errorMessage(error: unknown, text: string): Buffer {
  if (error instanceof SqlError || (isSluiceError(error) && 'line' in error)) {
    const e = error as SqlError;
    const lines = text.split('\n');
    const position = lines.slice(0, e.line - 1).reduce((n, l) => n + l.length + 1, 0) + e.column;
    return errorResponse(e.code === 'SQL_UNSUPPORTED' ? '0A000' : '42601', e.reason, position);
  }
  return errorResponse('XX000', error instanceof Error ? error.message : String(error));
}

function sendRows(socket: Socket, result: ReadResult, describe: boolean): void {
  if (describe) socket.write(rowDescription(result.columns));
  for (const row of result.rows) socket.write(dataRow(row.map((v, i) => textValue(v, result.columns[i]!.type))));
}

function serveConnection(socket: Socket, password: string | undefined, answer: (text: string, params: readonly (string | null)[]) => Promise<Answer[]>): void {
  const statements = new Map<string, { text: string; params: number }>();
  const portals = new Map<string, { text: string; params: (string | null)[]; answer?: Answer }>();
  /** After an error in the extended protocol, messages are skipped until Sync. */
  let failed = false;
  let phase: 'startup' | 'password' | 'ready' = 'startup';
  let pending: Buffer = Buffer.alloc(0);
  let chain = Promise.resolve();
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    // Whole messages, in order: startup messages have no type byte, the others one.
    const messages: Buffer[] = [];
    for (;;) {
      const head = phase === 'startup' ? 0 : 1;
      if (pending.length < head + 4) break;
      const length = head + pending.readInt32BE(head);
      if (length < head + 4 || length > 64 * 1024 * 1024) {
        socket.destroy();
        return;
      }
      if (pending.length < length) break;
      messages.push(pending.subarray(0, length));
      pending = pending.subarray(length);
      if (phase === 'startup') {
        // A startup message decides how the next ones are framed, so it is handled before they are split.
        const code = messages.at(-1)!.readInt32BE(4);
        if (code === 80877103 || code === 80877104) socket.write('N'); // SSLRequest, GSSENCRequest: not offered
        else if (code === 196608) {
          startup(messages.at(-1)!);
        } else socket.destroy(); // CancelRequest or an unknown protocol version
        messages.pop();
      }
    }
    for (const m of messages) chain = chain
        .then(() => handle(m))
        .catch(() => {
          socket.destroy();
        });
  });

  const startup = (message: Buffer): void => {
    if (password === undefined) ready();
    else {
      phase = 'password';
      socket.write(authentication(3)); // AuthenticationCleartextPassword
    }
    void message;
  };

  const ready = (): void => {
    phase = 'ready';
    socket.write(authentication(0));
    for (const [name, value] of Object.entries(PARAMETERS)) socket.write(parameterStatus(name, value));
    socket.write(readyForQuery());
  };

  const handle = async (buffer: Buffer): Promise<void> => {
    const type = String.fromCharCode(buffer[0]!);
    const reader = new MessageReader(buffer);
    if (phase === 'password') {
      if (type === 'p' && reader.cstring() === password) ready();
      else {
        socket.write(fatal('28P01', 'password authentication failed'));
        socket.end();
      }
      return;
    }
    if (type === 'X') {
      socket.end();
      return;
    }
    if (type === 'S') {
      failed = false;
      socket.write(readyForQuery());
      return;
    }
    if (type === 'H') return;
    if (failed && 'PBDEC'.includes(type)) return;
    let text = '';
    try {
      switch (type) {
        case 'Q': {
          text = reader.cstring();
          for (const a of await answer(text, [])) writeAnswer(socket, a, true);
          socket.write(readyForQuery());
          return;
        }
        case 'P': {
          const name = reader.cstring();
          text = reader.cstring();
          const count = Math.max(0, ...[...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
          statements.set(name, { text, params: count });
          socket.write(parseComplete());
          return;
        }
        case 'B': {
          const portal = reader.cstring();
          const statement = statements.get(reader.cstring());
          if (statement === undefined) throw new SluiceError('INVALID_ARGUMENT', 'Bind names a statement that was not prepared');
          text = statement.text;
          const formats = Array.from({ length: reader.int16() }, () => reader.int16());
          const params = Array.from({ length: reader.int16() }, (_v, i) => {
            const length = reader.int32();
            if (length < 0) return null;
            if ((formats.length === 1 ? formats[0] : formats[i]) === 1) throw new SluiceError('INVALID_ARGUMENT', 'binary parameters are not supported; send parameters as text');
            return reader.bytes(length).toString('utf8');
          });
          const resultFormats = Array.from({ length: reader.int16() }, () => reader.int16());
          if (resultFormats.some((f) => f === 1)) throw new SluiceError('INVALID_ARGUMENT', 'binary results are not supported; ask for text results');
          portals.set(portal, { text, params });
          socket.write(bindComplete());
          return;
        }
        case 'D': {
          const what = reader.byte();
          const name = reader.cstring();
          if (what === 'S') {
            const statement = statements.get(name);
            if (statement === undefined) throw new SluiceError('INVALID_ARGUMENT', 'Describe names a statement that was not prepared');
            text = statement.text;
            socket.write(parameterDescription(statement.params));
            const [a] = await answer(text, Array.from({ length: statement.params }, () => null));
            socket.write(a?.kind === 'rows' ? rowDescription(a.result.columns) : noData());
            return;
          }
          const portal = portals.get(name);
          if (portal === undefined) throw new SluiceError('INVALID_ARGUMENT', 'Describe names a portal that was not bound');
          text = portal.text;
          portal.answer = (await answer(text, portal.params))[0];
          socket.write(portal.answer?.kind === 'rows' ? rowDescription(portal.answer.result.columns) : noData());
          return;
        }
        case 'E': {
          const portal = portals.get(reader.cstring());
          if (portal === undefined) throw new SluiceError('INVALID_ARGUMENT', 'Execute names a portal that was not bound');
          text = portal.text;
          const a = portal.answer ?? (await answer(text, portal.params))[0]!;
          portal.answer = undefined;
          writeAnswer(socket, a, false);
          return;
        }
        case 'C': {
          const what = reader.byte();
          const name = reader.cstring();
          (what === 'S' ? statements : portals).delete(name);
          socket.write(closeComplete());
          return;
        }
        default:
          throw new SluiceError('INVALID_ARGUMENT', `message type '${type}' is not supported (function calls and COPY are not served)`);
      }
    } catch (error) {
      socket.write(errorMessage(error, text));
      if (type === 'Q') socket.write(readyForQuery());
      else failed = true;
    }
  };
}

/** Parameters a server reports after startup (drivers read client_encoding, DateStyle and integer_datetimes). */
const PARAMETERS: Record<string, string> = {
  server_version: '16.0',
  server_encoding: 'UTF8',
  client_encoding: 'UTF8',
  DateStyle: 'ISO, MDY',
  TimeZone: 'UTC',
  integer_datetimes: 'on',
  standard_conforming_strings: 'on',
  application_name: '',
};

function writeAnswer(socket: Socket, a: Answer, describe: boolean): void {
  if (a.kind === 'empty') socket.write(emptyQuery());
  else if (a.kind === 'command') socket.write(commandComplete(a.tag));
  else {
    sendRows(socket, a.result, describe);
    socket.write(commandComplete(a.tag));
  }
}
