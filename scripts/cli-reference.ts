// Writes docs/cli.md from the `sluice` command's own help, so the reference cannot drift from the
// code (test/cli/reference.test.ts checks the file is what this prints).
// Usage: node scripts/cli-reference.ts > docs/cli.md
import type { Command, OutputConfiguration } from 'commander';
import { buildProgram } from '../src/cli/main.ts';

/** The help of every command, depth first, as the user sees it with `sluice ... --help`. */
function sections(command: Command, path: string[]): string[] {
  const name = [...path, command.name()].join(' ');
  const help = helpOf(command);
  const own = path.length === 0 ? [] : [`## ${name}\n\n\`\`\`\n${help}\n\`\`\`\n`];
  return [...own, ...command.commands.filter((c) => c.name() !== 'help').flatMap((c) => sections(c, [...path, command.name()]))];
}

/** What `--help` prints, with the examples added after it; wrapped at 80 columns on every machine. */
function helpOf(command: Command): string {
  let text = '';
  const output: OutputConfiguration & { getOutColumns?: () => number } = {
    writeOut: (chunk: string) => {
      text += chunk;
    },
    getOutHelpWidth: () => 80,
    getOutColumns: () => 80,
  };
  command.configureOutput(output);
  command.outputHelp();
  return text.trimEnd();
}

export function cliReference(): string {
  const program = buildProgram();
  return `# CLI reference

The \`sluice\` command (package bin; \`node bin/sluice.mjs\` in a checkout). Every command takes
\`--data-dir DIR\` (default \`./.sluice\`, or \`$SLUICE_DATA_DIR\`), prints human output by default
and JSON with \`--json\`, writes errors to stderr as one line (\`--verbose\` adds the stack), and
exits 0 on success, 1 on failure, 2 on a usage error. This page is generated from the command's
own help (\`node scripts/cli-reference.ts > docs/cli.md\`).

\`\`\`
${helpOf(program)}
\`\`\`

${sections(program, []).join('\n')}`;
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(cliReference());
