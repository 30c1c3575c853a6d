/**
 * The graph builder behind every stream: it allocates node ids and stable names and
 * validates what the user passes, so a bad argument fails where it is written.
 */
import { type Codec, SluiceError } from '../core/index.ts';
import type { LogicalGraph, LogicalNode, NodeId } from './graph.ts';

/** What a running table answers in one task (the runtime's operators implement it). */
export interface TableTask {
  get(key: unknown): unknown;
  rows(): Iterable<[unknown, unknown]>;
  asOf?(key: unknown, time: number): unknown;
}

type NewNode = LogicalNode extends infer N ? (N extends LogicalNode ? Omit<N, 'id' | 'name'> : never) : never;

export class GraphBuilder {
  readonly graph: LogicalGraph = { nodes: [] };
  readonly #names = new Set<string>();
  readonly #stores = new Set<string>();
  /**
   * While the app runs, the operators holding each table (the app sets it, since api/ never
   * imports the runtime); undefined otherwise.
   */
  tables: ((name: string) => readonly TableTask[]) | undefined;
  /** The app's name, for messages. */
  appName: string | undefined;

  /** Adds a node. Its name is the one given, else `<kind>-<id>`: deterministic from its position. */
  add(node: NewNode, name?: string): NodeId {
    const id = this.graph.nodes.length;
    const finalName = name ?? `${node.kind}-${id}`;
    if (name !== undefined) checkName(name);
    if (this.#names.has(finalName)) {
      throw new SluiceError('INVALID_ARGUMENT', `two stages are named '${finalName}'; give each stage its own name`);
    }
    if (this.#stores.has(finalName)) throw new SluiceError('INVALID_ARGUMENT', `'${finalName}' is the name of a queryable store; give the stage a name of its own`);
    // A window written in update or complete mode emits at every change: only its sink reads it.
    const input = 'input' in node ? this.graph.nodes[node.input] : undefined;
    if (input?.kind === 'window' && input.output !== undefined) {
      throw new SluiceError('INVALID_ARGUMENT', `window results of '${input.name}' in update or complete mode are read by that one sink (the window emits at every change for it); write each mode from a window of its own`);
    }
    this.#names.add(finalName);
    this.graph.nodes.push({ ...node, id, name: finalName } as LogicalNode);
    return id;
  }

  /** Makes the windowed aggregate `id` the queryable store `name` (a stage name, or a name of its own). */
  materialize(id: NodeId, name: string): void {
    checkName(name);
    const node = this.graph.nodes[id];
    if (node?.kind !== 'window') throw new SluiceError('INVALID_ARGUMENT', 'materialize() makes a windowed aggregate queryable; call it on the stream that .count(), .aggregate() and the like return');
    if (node.store !== undefined) {
      throw new SluiceError('INVALID_ARGUMENT', `stage '${node.name}' is already the queryable store '${node.store}'; query it by that name, or materialize it once`);
    }
    if (this.#stores.has(name)) throw new SluiceError('INVALID_ARGUMENT', `two queryable stores are named '${name}'; give each its own name`);
    if (name !== node.name && this.#names.has(name)) {
      throw new SluiceError('INVALID_ARGUMENT', `'${name}' names another stage; name the store after this stage ('${node.name}') or give it a name no stage has`);
    }
    this.#stores.add(name);
    node.store = name;
  }

  node(id: NodeId): LogicalNode {
    return this.graph.nodes[id];
  }
}

export function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,200}$/.test(name)) {
    throw new SluiceError(
      'INVALID_ARGUMENT',
      `name ${JSON.stringify(name)} is not valid; use letters, digits, '.', '_' and '-', such as 'hourly-order-totals'`,
    );
  }
}

export function checkFunction(fn: unknown, what: string, example: string): void {
  if (typeof fn !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', `${what} expects a function, got ${fn === null ? 'null' : typeof fn}; write for example ${example}`);
  }
}

export function checkTopic(topic: unknown, what: string): asserts topic is string {
  if (typeof topic !== 'string' || !/^[A-Za-z0-9._-]{1,249}$/.test(topic)) {
    throw new SluiceError(
      'INVALID_TOPIC_NAME',
      `${what}: topic ${JSON.stringify(topic)} is not valid; use 1-249 letters, digits, '.', '_' or '-', such as 'clicks-per-url'`,
    );
  }
}

export function checkCodec(codec: unknown, what: string): Codec | undefined {
  if (codec === undefined) return undefined;
  const c = codec as Partial<Codec>;
  if (codec === null || typeof codec !== 'object' || typeof c.name !== 'string' || typeof c.encode !== 'function' || typeof c.decode !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', `${what}: codec must have name, encode(value) and decode(bytes); write for example { codec: jsonCodec }`);
  }
  return codec as Codec;
}
