-- Projection with WHERE, CASE, arithmetic, string and time functions and CAST; a running
-- (non-windowed) GROUP BY, which emits an update per record; UNION ALL of two sources.
CREATE SOURCE clicks (user_id TEXT, url TEXT, ms BIGINT, at TIMESTAMP) WITH (topic = 'clicks', timestamp = 'at');
CREATE SOURCE taps (user_id TEXT, url TEXT, at TIMESTAMP) WITH (topic = 'taps', timestamp = 'at');

CREATE VIEW enriched AS
SELECT upper(user_id) AS who,
  CASE WHEN url LIKE '/products/%' THEN 'product' WHEN url = '/' THEN 'home' ELSE 'other' END AS kind,
  ms / 1000 AS seconds, ms * 1.5 AS weighted, length(url) AS len, split_part(url, '/', 2) AS section,
  date_trunc('minute', at) AS minute, EXTRACT(HOUR FROM at) AS hour, CAST(ms AS TEXT) || 'ms' AS label,
  at + INTERVAL '1' HOUR AS later, COALESCE(NULLIF(url, '/'), 'root') AS page
FROM clicks
WHERE ms >= 100 AND NOT (user_id IN ('bot', 'crawler'));

CREATE MATERIALIZED VIEW running AS
SELECT user_id, COUNT(*) AS clicks, MAX(ms) AS slowest FROM clicks GROUP BY user_id HAVING COUNT(*) >= 1;

CREATE MATERIALIZED VIEW everything AS
SELECT user_id, url, 'click' AS source FROM clicks
UNION ALL
SELECT user_id, url, 'tap' FROM taps;

CREATE SINK enriched_out FROM enriched WITH (topic = 'enriched');
CREATE SINK running_out FROM running WITH (topic = 'running');
CREATE SINK everything_out FROM everything WITH (topic = 'everything');
