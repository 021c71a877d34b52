-- A key's hours get what an endpoint's have: 4xx, 429s and a latency histogram, so a key's usage
-- by hour or day reads them rather than every request. The defaults only let the columns be added
-- to stored rows: every row is counted again below, and the defaults dropped.
-- AlterTable
ALTER TABLE "usage_hourly_keys" ADD COLUMN     "client_errors" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "latency" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "rate_limited" BIGINT NOT NULL DEFAULT 0;

-- Two latency histograms ({"bucket": count}) added bucket by bucket.
CREATE FUNCTION usage_latency_merge(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT jsonb_object_agg(bucket, n)
  FROM (
    SELECT bucket, sum(n::bigint) AS n
    FROM (SELECT * FROM jsonb_each_text(a) UNION ALL SELECT * FROM jsonb_each_text(b)) AS both_(bucket, n)
    GROUP BY bucket
  ) merged
$$;

-- The bodies below are E'' strings with \073 for each semicolon: Prisma's driver adapter
-- (prisma migrate deploy) splits a migration at every semicolon, inside dollar quotes too.
--
-- Adds the rows of a usage table (api_usage's columns) to the hourly tables. Rows are locked in
-- one order, so two writers adding to the same hour wait for each other rather than deadlock.
CREATE OR REPLACE FUNCTION usage_hourly_add() RETURNS trigger
LANGUAGE plpgsql
AS E'
BEGIN
  INSERT INTO usage_hourly_endpoints AS t
    (user_id, hour, endpoint, method, requests, errors, client_errors, rate_limited, latency)
  SELECT user_id, hour, endpoint, method, sum(requests), sum(errors), sum(client_errors),
         sum(rate_limited), jsonb_object_agg(bucket, requests)
  FROM (
    SELECT coalesce(user_id, 0) AS user_id, hour, endpoint, method, bucket,
           count(*) AS requests,
           count(*) FILTER (WHERE status_code >= 500) AS errors,
           count(*) FILTER (WHERE status_code BETWEEN 400 AND 499) AS client_errors,
           count(*) FILTER (WHERE rate_limited) AS rate_limited
    FROM (
      SELECT user_id, date_trunc(''hour'', created_at, ''UTC'') AS hour, endpoint, method,
             status_code, rate_limited, usage_latency_bucket(response_time) AS bucket
      FROM new_usage
    ) r
    GROUP BY GROUPING SETS ((user_id, hour, endpoint, method, bucket), (hour, endpoint, method, bucket))
  ) b
  GROUP BY user_id, hour, endpoint, method
  ORDER BY user_id, hour, endpoint, method
  ON CONFLICT (user_id, hour, endpoint, method) DO UPDATE SET
    requests = t.requests + excluded.requests,
    errors = t.errors + excluded.errors,
    client_errors = t.client_errors + excluded.client_errors,
    rate_limited = t.rate_limited + excluded.rate_limited,
    latency = usage_latency_merge(t.latency, excluded.latency)\073

  INSERT INTO usage_hourly_keys AS t
    (hour, api_key_id, user_id, requests, errors, client_errors, rate_limited, latency)
  SELECT hour, api_key_id, min(user_id), sum(requests), sum(errors), sum(client_errors),
         sum(rate_limited), jsonb_object_agg(bucket, requests)
  FROM (
    SELECT date_trunc(''hour'', created_at, ''UTC'') AS hour, api_key_id,
           usage_latency_bucket(response_time) AS bucket, min(user_id) AS user_id,
           count(*) AS requests,
           count(*) FILTER (WHERE status_code >= 500) AS errors,
           count(*) FILTER (WHERE status_code BETWEEN 400 AND 499) AS client_errors,
           count(*) FILTER (WHERE rate_limited) AS rate_limited
    FROM new_usage
    GROUP BY 1, 2, 3
  ) b
  GROUP BY hour, api_key_id
  ORDER BY hour, api_key_id
  ON CONFLICT (hour, api_key_id) DO UPDATE SET
    requests = t.requests + excluded.requests,
    errors = t.errors + excluded.errors,
    client_errors = t.client_errors + excluded.client_errors,
    rate_limited = t.rate_limited + excluded.rate_limited,
    latency = usage_latency_merge(t.latency, excluded.latency)\073
  RETURN NULL\073
END
';

-- Every key's hours counted again from the stored requests, holding off inserts (whose trigger
-- already fills the new columns), so each request is counted once.
DO E'
BEGIN
  LOCK TABLE api_usage IN SHARE ROW EXCLUSIVE MODE\073
  DELETE FROM usage_hourly_keys\073
  INSERT INTO usage_hourly_keys
    (hour, api_key_id, user_id, requests, errors, client_errors, rate_limited, latency)
  SELECT hour, api_key_id, min(user_id), sum(requests), sum(errors), sum(client_errors),
         sum(rate_limited), jsonb_object_agg(bucket, requests)
  FROM (
    SELECT date_trunc(''hour'', created_at, ''UTC'') AS hour, api_key_id,
           usage_latency_bucket(response_time) AS bucket, min(user_id) AS user_id,
           count(*) AS requests,
           count(*) FILTER (WHERE status_code >= 500) AS errors,
           count(*) FILTER (WHERE status_code BETWEEN 400 AND 499) AS client_errors,
           count(*) FILTER (WHERE rate_limited) AS rate_limited
    FROM api_usage
    GROUP BY 1, 2, 3
  ) b
  GROUP BY hour, api_key_id\073
END
';

ALTER TABLE "usage_hourly_keys" ALTER COLUMN "client_errors" DROP DEFAULT,
ALTER COLUMN "latency" DROP DEFAULT,
ALTER COLUMN "rate_limited" DROP DEFAULT;
