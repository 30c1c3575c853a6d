/**
 * The Apache Flink peer (bench/peers/flink): built with Maven (jars cached in the local Maven
 * repository, classes in target/), run as one JVM per query and parallelism. Java lives only
 * there, as benchmark infrastructure.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PEER_DIR = fileURLToPath(new URL('../peers/flink/', import.meta.url));

export interface FlinkResult {
  query: string;
  parallelism: number;
  events: number;
  ms: number[];
  eps: number;
  rows: number;
  hash: string;
  flink: string;
}

/** The newest modification time of the files under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds the peer unless its compiled classes are newer than its sources. */
export function buildFlink(log: (line: string) => void): void {
  const classes = join(PEER_DIR, 'target', 'classes');
  const sources = Math.max(newestSource(join(PEER_DIR, 'src')), statSync(join(PEER_DIR, 'pom.xml')).mtimeMs);
  if (existsSync(join(PEER_DIR, 'target', 'classpath.txt')) && existsSync(classes) && newestSource(classes) > sources) {
    log('Flink: peer is up to date (target/)');
    return;
  }
  try {
    execFileSync('mvn', ['-q', '-B', 'package', '-DskipTests'], { cwd: PEER_DIR, stdio: 'pipe', encoding: 'utf8' });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`the Flink peer did not build (mvn package in bench/peers/flink):\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  log('Flink: built');
}

export function runFlink(options: { query: string; events: number; seed: number; runs: number; parallelism: number }): FlinkResult {
  const classpath = `${join(PEER_DIR, 'target', 'classes')}:${readFileSync(join(PEER_DIR, 'target', 'classpath.txt'), 'utf8').trim()}`;
  const args = ['-Xms2g', '-Xmx8g', '-cp', classpath, 'sluice.nexmark.Main'];
  args.push('--query', options.query, '--events', String(options.events), '--seed', String(options.seed));
  args.push('--parallelism', String(options.parallelism), '--runs', String(options.runs));
  const out = execFileSync('java', args, { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').at(-1)!) as FlinkResult;
}
