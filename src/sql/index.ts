/**
 * sql: streaming SQL in the Postgres dialect. Statements are parsed by Postgres' own parser
 * (libpg-query, in WebAssembly) plus a small front parser for what its grammar rejects
 * (`CREATE SOURCE`, `CREATE SINK`, `EMIT`), and compiled onto the DSL's logical graph, so they
 * run on the same plan and runtime as TypeScript pipelines: never a second engine.
 * @example
 * const session = new SqlSession(app);
 * await session.execute(`CREATE SOURCE page_views (page TEXT, event_time TIMESTAMP,
 *   WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND) WITH (topic = 'page_views');
 *   CREATE MATERIALIZED VIEW per_minute AS SELECT page, COUNT(*) AS views FROM page_views
 *   GROUP BY page, TUMBLE(event_time, INTERVAL '1' MINUTE);`);
 */
export type { Definition, SinkDef, SourceDef, ViewDef } from './catalog.ts';
export { excerptAt, positionOf, SqlError, type SqlPosition } from './errors.ts';
export { splitStatements } from './lexer.ts';
export { loadParser } from './pg.ts';
export { endsStatement, parseScript, type Statement } from './statements.ts';
export { type SessionOptions, SqlSession, type SqlResult, viewTopic } from './session.ts';
export { type Column, exportRow, type Row, type SqlType, typeLabel } from './types.ts';
export { startWireServer, type WireServer, type WireServerOptions } from './wire/server.ts';
export type { ViewLog } from './wire/tables.ts';
