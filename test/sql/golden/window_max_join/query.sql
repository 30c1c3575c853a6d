-- Nexmark q7's shape: the bids with the highest price of each 10-second window, joined back to the
-- per-window maximum on the window's event time (TUMBLE_ROWTIME, the window's end - 1), then a
-- count per window of those results grouped again by that event time.
CREATE SOURCE bids (auction BIGINT, price BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (topic = 'bids', format = 'json');

CREATE VIEW maxes AS
SELECT MAX(price) AS maxprice, TUMBLE_START(ts, INTERVAL '10' SECOND) AS ws, TUMBLE_ROWTIME(ts, INTERVAL '10' SECOND) AS rt
FROM bids GROUP BY TUMBLE(ts, INTERVAL '10' SECOND);

CREATE MATERIALIZED VIEW highest AS
SELECT b.auction, b.price, b.ts, m.ws FROM bids b JOIN maxes m
  ON b.price = m.maxprice AND b.ts BETWEEN m.rt - INTERVAL '9999 milliseconds' AND m.rt;

CREATE MATERIALIZED VIEW maxes_per_20s AS
SELECT TUMBLE_START(rt, INTERVAL '20' SECOND) AS w, COUNT(*) AS windows, MAX(maxprice) AS top
FROM maxes GROUP BY TUMBLE(rt, INTERVAL '20' SECOND);

CREATE SINK s1 FROM highest WITH (topic = 'highest');
CREATE SINK s2 FROM maxes_per_20s WITH (topic = 'maxes-per-20s');
