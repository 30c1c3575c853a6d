-- Impressions and clicks of one ad within 10 minutes of each other (the material's interval
-- join), inner with the time to click, left (impressions never clicked), full, and right.
CREATE SOURCE impressions (ad_id TEXT, imp_id TEXT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '1' MINUTE)
  WITH (topic = 'impressions', format = 'json');
CREATE SOURCE clicks (ad_id TEXT, user_id TEXT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '1' MINUTE)
  WITH (topic = 'clicks', format = 'json');

CREATE MATERIALIZED VIEW time_to_click AS
SELECT i.ad_id, i.imp_id, c.user_id, (c.ts - i.ts) AS time_to_click
FROM impressions i JOIN clicks c
  ON i.ad_id = c.ad_id AND c.ts BETWEEN i.ts - INTERVAL '10' MINUTE AND i.ts + INTERVAL '10' MINUTE;

CREATE MATERIALIZED VIEW impressions_with_clicks AS
SELECT i.imp_id, c.user_id FROM impressions AS i LEFT JOIN clicks AS c
  ON c.ad_id = i.ad_id AND c.ts >= i.ts AND c.ts < i.ts + INTERVAL '5' MINUTE;

CREATE MATERIALIZED VIEW both_sides AS
SELECT i.imp_id, c.user_id, c.ad_id AS click_ad FROM impressions i FULL JOIN clicks c
  ON i.ad_id = c.ad_id AND i.ts BETWEEN c.ts - INTERVAL '2' MINUTE AND c.ts;

CREATE MATERIALIZED VIEW clicks_with_impressions AS
SELECT c.user_id, i.imp_id FROM impressions i RIGHT JOIN clicks c
  ON i.ad_id = c.ad_id AND c.ts BETWEEN i.ts AND i.ts + INTERVAL '3' MINUTE
WHERE c.user_id <> 'u9';

CREATE SINK s1 FROM time_to_click WITH (topic = 'time-to-click');
CREATE SINK s2 FROM impressions_with_clicks WITH (topic = 'impressions-with-clicks');
CREATE SINK s3 FROM both_sides WITH (topic = 'both-sides');
CREATE SINK s4 FROM clicks_with_impressions WITH (topic = 'clicks-with-impressions');
