/** Ending a command with a chosen exit code and a message of its own (not a failure of Sluice). */
export class CommandExit extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.name = 'CommandExit';
    this.exitCode = exitCode;
  }
}

/** The shell's exit code for a process stopped by `signal`: 128 + its number. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1;
}
