-- Hopping and session windows with several aggregates, over two partitions with no late records.
CREATE SOURCE orders (customer TEXT, amount DOUBLE, item TEXT, ts BIGINT,
  WATERMARK FOR ts AS ts - INTERVAL '10' SECOND)
WITH (topic = 'orders');

CREATE MATERIALIZED VIEW hopping AS
SELECT customer, HOP_START(ts, INTERVAL '10' SECOND, INTERVAL '20' SECOND) AS ws, HOP_END(ts, INTERVAL '10' SECOND, INTERVAL '20' SECOND) AS we,
  COUNT(*) AS n, SUM(amount) AS total, AVG(amount) AS mean, MIN(amount) AS lo, MAX(amount) AS hi, COUNT(DISTINCT item) AS items
FROM orders
GROUP BY customer, HOP(ts, INTERVAL '10' SECOND, INTERVAL '20' SECOND)
HAVING SUM(amount) > 5;

CREATE MATERIALIZED VIEW sessions AS
SELECT customer, SESSION_START(ts, INTERVAL '15' SECOND) AS s, SESSION_END(ts, INTERVAL '15' SECOND) AS e, COUNT(*) AS n, MAX(item) AS last_item
FROM orders
GROUP BY customer, SESSION(ts, INTERVAL '15' SECOND);

CREATE MATERIALIZED VIEW tvf AS
SELECT window_start, window_end, COUNT(DISTINCT customer) AS customers, SUM(amount) * 2 AS doubled
FROM TUMBLE(orders, ts, INTERVAL '30' SECOND)
GROUP BY window_start, window_end;

CREATE SINK hopping_out FROM hopping WITH (topic = 'hopping');
CREATE SINK sessions_out FROM sessions WITH (topic = 'sessions');
CREATE SINK tvf_out FROM tvf WITH (topic = 'tvf');
