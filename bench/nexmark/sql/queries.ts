/**
 * Nexmark q0, q1, q2, q5, q7, q8 and q11 in SQL, run by `app.sql` on the same engine as the DSL versions
 * (queries/), so their checksums must agree with them and with the hand-written loops. The
 * source declares a bid's fields; persons and auctions have NULL in them and are filtered out
 * by `type = 'bid'`, as the DSL's `bids()` does. Rows carry the DSL's field names and epoch-ms
 * numbers (CAST(... AS BIGINT)) so the checksums compare. q5 and q7 join the bids (or counts)
 * with the per-window maximum as the reference SQL does, and q8 the persons and sellers of each
 * window, as interval joins on the windows' event time (`*_ROWTIME`, a window result's end - 1).
 * q0 passes every event through as it is: persons, auctions and bids are rows of three shapes,
 * which one SQL query cannot return (UNION ALL needs one column list; padding each kind with the
 * others' columns as NULL would give other rows). So it is three queries, one per kind, each
 * selecting its kind's fields, with three sinks into the one output topic, as Flink writes
 * several INSERT INTO a sink in one statement set.
 */
import type { Sluice } from '../../../src/index.ts';
import type { Codecs } from '../codecs.ts';
import { INPUT_TOPIC, OUTPUT_TOPIC } from '../queries/common.ts';

const SOURCE = `CREATE SOURCE nexmark (type TEXT, auction BIGINT, bidder BIGINT, price BIGINT, "dateTime" BIGINT, extra TEXT,
  WATERMARK FOR "dateTime" AS "dateTime") WITH (topic = '${INPUT_TOPIC}');`;

/** q8 reads persons and auctions too: their id, name and seller. */
const PEOPLE_SOURCE = `CREATE SOURCE nexmark (type TEXT, id BIGINT, name TEXT, seller BIGINT, "dateTime" BIGINT,
  WATERMARK FOR "dateTime" AS "dateTime") WITH (topic = '${INPUT_TOPIC}');`;

/** q0 reads every field of every kind; a kind's rows have NULL in the other kinds' fields. */
const EVENT_SOURCE = `CREATE SOURCE nexmark (type TEXT, id BIGINT, name TEXT, "emailAddress" TEXT, "creditCard" TEXT, city TEXT, "state" TEXT,
  "itemName" TEXT, description TEXT, "initialBid" BIGINT, reserve BIGINT, expires BIGINT, seller BIGINT, category BIGINT,
  auction BIGINT, bidder BIGINT, price BIGINT, channel TEXT, url TEXT, "dateTime" BIGINT, extra TEXT) WITH (topic = '${INPUT_TOPIC}');`;

const Q0 = `CREATE VIEW persons AS SELECT type, id, name, "emailAddress", "creditCard", city, "state", "dateTime", extra FROM nexmark WHERE type = 'person';
  CREATE VIEW auctions AS SELECT type, id, "itemName", description, "initialBid", reserve, "dateTime", expires, seller, category, extra FROM nexmark WHERE type = 'auction';
  CREATE VIEW bids AS SELECT type, auction, bidder, price, channel, url, "dateTime", extra FROM nexmark WHERE type = 'bid';
  CREATE SINK persons_out FROM persons WITH (topic = '${OUTPUT_TOPIC}');
  CREATE SINK auctions_out FROM auctions WITH (topic = '${OUTPUT_TOPIC}');
  CREATE SINK bids_out FROM bids WITH (topic = '${OUTPUT_TOPIC}');`;

const SQL: Record<string, string> = {
  q1: `CREATE VIEW q1 AS SELECT auction, bidder, 0.908 * price AS price, CAST("dateTime" AS BIGINT) AS "dateTime", extra FROM nexmark WHERE type = 'bid';`,
  q2: `CREATE VIEW q2 AS SELECT auction, price FROM nexmark WHERE type = 'bid' AND auction % 123 = 0;`,
  q5: `CREATE VIEW counts AS
    SELECT auction, COUNT(*) AS num, HOP_START("dateTime", INTERVAL '2' SECOND, INTERVAL '10' SECOND) AS starttime,
      HOP_END("dateTime", INTERVAL '2' SECOND, INTERVAL '10' SECOND) AS endtime, HOP_ROWTIME("dateTime", INTERVAL '2' SECOND, INTERVAL '10' SECOND) AS rt
    FROM nexmark WHERE type = 'bid' GROUP BY auction, HOP("dateTime", INTERVAL '2' SECOND, INTERVAL '10' SECOND);
  CREATE VIEW maxes AS SELECT MAX(num) AS maxn, TUMBLE_ROWTIME(rt, INTERVAL '2' SECOND) AS rt FROM counts GROUP BY TUMBLE(rt, INTERVAL '2' SECOND);
  CREATE VIEW q5 AS SELECT c.auction, c.num, CAST(c.starttime AS BIGINT) AS start, CAST(c.endtime AS BIGINT) AS "end"
    FROM counts c JOIN maxes m ON c.num = m.maxn AND c.rt = m.rt;`,
  q7: `CREATE VIEW bids AS SELECT auction, bidder, price, "dateTime", extra FROM nexmark WHERE type = 'bid';
  CREATE VIEW maxes AS SELECT MAX(price) AS maxprice, TUMBLE_ROWTIME("dateTime", INTERVAL '10' SECOND) AS rt FROM bids GROUP BY TUMBLE("dateTime", INTERVAL '10' SECOND);
  CREATE VIEW q7 AS SELECT b.auction, b.bidder, b.price, CAST(b."dateTime" AS BIGINT) AS "dateTime", b.extra
    FROM bids b JOIN maxes m ON b.price = m.maxprice AND b."dateTime" BETWEEN m.rt - INTERVAL '9999 milliseconds' AND m.rt;`,
  q8: `CREATE VIEW people AS
    SELECT id, name, TUMBLE_START("dateTime", INTERVAL '10' SECOND) AS starttime, TUMBLE_ROWTIME("dateTime", INTERVAL '10' SECOND) AS rt
    FROM nexmark WHERE type = 'person' GROUP BY id, name, TUMBLE("dateTime", INTERVAL '10' SECOND);
  CREATE VIEW sellers AS
    SELECT seller, TUMBLE_ROWTIME("dateTime", INTERVAL '10' SECOND) AS rt
    FROM nexmark WHERE type = 'auction' GROUP BY seller, TUMBLE("dateTime", INTERVAL '10' SECOND);
  CREATE VIEW q8 AS SELECT p.id, p.name, CAST(p.starttime AS BIGINT) AS starttime FROM people p JOIN sellers s ON p.id = s.seller AND p.rt = s.rt;`,
  q11: `CREATE VIEW q11 AS
    SELECT bidder, COUNT(*) AS bid_count,
      CAST(SESSION_START("dateTime", INTERVAL '10' SECOND) AS BIGINT) AS start, CAST(SESSION_END("dateTime", INTERVAL '10' SECOND) AS BIGINT) AS "end"
    FROM nexmark WHERE type = 'bid'
    GROUP BY bidder, SESSION("dateTime", INTERVAL '10' SECOND);`,
};

/** The pipeline of query `name` in SQL; `run()` waits for the script. */
export function sqlQuery(name: 'q0' | 'q1' | 'q2' | 'q5' | 'q7' | 'q8' | 'q11'): (app: Sluice, codecs: Codecs) => void {
  return (app, codecs) => {
    const codec = (topic: string) => (topic === INPUT_TOPIC ? codecs.event : topic === OUTPUT_TOPIC ? codecs.row : undefined);
    if (name === 'q0') {
      app.sql(`${EVENT_SOURCE}\n${Q0}`, { codec }).catch(() => undefined);
      return;
    }
    app.sql(`${name === 'q8' ? PEOPLE_SOURCE : SOURCE}\n${SQL[name]}\nCREATE SINK out FROM ${name} WITH (topic = '${OUTPUT_TOPIC}');`, { codec }).catch(() => undefined);
  };
}
