-- Clicks enriched with the user row valid at each click's time (a temporal join on a versioned
-- changelog table), inner and left with a condition on the row, then grouped per tier and minute.
CREATE TABLE users (
  id TEXT,
  name TEXT,
  tier TEXT,
  updated_at TIMESTAMP,
  PRIMARY KEY (id),
  WATERMARK FOR updated_at AS updated_at
) WITH (topic = 'users', format = 'json', versions = '1h');
CREATE SOURCE clicks (user_id TEXT, url TEXT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
  WITH (topic = 'clicks', format = 'json');

CREATE MATERIALIZED VIEW enriched AS
SELECT c.url, c.user_id, u.name, u.tier, c.ts
FROM clicks c JOIN users FOR SYSTEM_TIME AS OF c.ts AS u ON c.user_id = u.id;

CREATE MATERIALIZED VIEW gold_or_not AS
SELECT c.url, c.user_id, u.tier AS gold_tier
FROM clicks AS c LEFT JOIN users FOR SYSTEM_TIME AS OF c.ts u ON u.id = c.user_id AND u.tier = 'gold';

CREATE MATERIALIZED VIEW clicks_per_tier AS
SELECT u.tier, TUMBLE_START(c.ts, INTERVAL '1' MINUTE) AS minute, COUNT(*) AS clicks
FROM clicks c JOIN users FOR SYSTEM_TIME AS OF c.ts u ON c.user_id = u.id
GROUP BY u.tier, TUMBLE(c.ts, INTERVAL '1' MINUTE);

CREATE SINK s1 FROM enriched WITH (topic = 'enriched');
CREATE SINK s2 FROM gold_or_not WITH (topic = 'gold-or-not');
CREATE SINK s3 FROM clicks_per_tier WITH (topic = 'clicks-per-tier');
