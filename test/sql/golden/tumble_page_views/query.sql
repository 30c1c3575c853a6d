-- The material's two Flink SQL statements, over a source with a 5-second watermark; one partition, so
-- which late records re-fire a window is the same in every run.
CREATE SOURCE page_views (
  user_id TEXT,
  page TEXT,
  event_time TIMESTAMP,
  WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND
) WITH (topic = 'page_views', format = 'json', timestamp = 'event_time');

CREATE MATERIALIZED VIEW per_minute AS
SELECT page, TUMBLE_START(event_time, INTERVAL '1' MINUTE) AS window_start, COUNT(*) AS view_count FROM page_views GROUP BY page, TUMBLE(event_time, INTERVAL '1' MINUTE);

CREATE MATERIALIZED VIEW per_minute_late AS
SELECT page, TUMBLE_START(event_time, INTERVAL '1' MINUTE) AS window_start, COUNT(*) AS view_count FROM page_views GROUP BY page, TUMBLE(event_time, INTERVAL '1' MINUTE)
EMIT AFTER WATERMARK ALLOWED LATENESS = INTERVAL '1' MINUTE;

CREATE SINK on_time FROM per_minute WITH (topic = 'on-time');
CREATE SINK with_lateness FROM per_minute_late WITH (topic = 'with-lateness');
