/**
 * Nexmark q1, q2 and q11 in SQL, run by `app.sql` on the same engine as the DSL versions
 * (queries/), so their checksums must agree with them and with the hand-written loops. The
 * source declares a bid's fields; persons and auctions have NULL in them and are filtered out
 * by `type = 'bid'`, as the DSL's `bids()` does. Rows carry the DSL's field names and epoch-ms
 * numbers (CAST(... AS BIGINT)) so the checksums compare. q0 (every event as it is), q5 and q7
 * (a join with a per-window maximum) have no SQL form in Sluice yet: no heterogeneous rows, no joins.
 */
import type { Sluice } from '../../../src/index.ts';
import type { Codecs } from '../codecs.ts';
import { INPUT_TOPIC, OUTPUT_TOPIC } from '../queries/common.ts';

const SOURCE = `CREATE SOURCE nexmark (type TEXT, auction BIGINT, bidder BIGINT, price BIGINT, "dateTime" BIGINT, extra TEXT,
  WATERMARK FOR "dateTime" AS "dateTime") WITH (topic = '${INPUT_TOPIC}');`;

const SQL: Record<string, string> = {
  q1: `CREATE VIEW q1 AS SELECT auction, bidder, 0.908 * price AS price, CAST("dateTime" AS BIGINT) AS "dateTime", extra FROM nexmark WHERE type = 'bid';`,
  q2: `CREATE VIEW q2 AS SELECT auction, price FROM nexmark WHERE type = 'bid' AND auction % 123 = 0;`,
  q11: `CREATE VIEW q11 AS
    SELECT bidder, COUNT(*) AS bid_count,
      CAST(SESSION_START("dateTime", INTERVAL '10' SECOND) AS BIGINT) AS start, CAST(SESSION_END("dateTime", INTERVAL '10' SECOND) AS BIGINT) AS "end"
    FROM nexmark WHERE type = 'bid'
    GROUP BY bidder, SESSION("dateTime", INTERVAL '10' SECOND);`,
};

/** The pipeline of query `name` in SQL; `run()` waits for the script. */
export function sqlQuery(name: 'q1' | 'q2' | 'q11'): (app: Sluice, codecs: Codecs) => void {
  return (app, codecs) => {
    const codec = (topic: string) => (topic === INPUT_TOPIC ? codecs.event : topic === OUTPUT_TOPIC ? codecs.row : undefined);
    app.sql(`${SOURCE}\n${SQL[name]}\nCREATE SINK out FROM ${name} WITH (topic = '${OUTPUT_TOPIC}');`, { codec }).catch(() => undefined);
  };
}
