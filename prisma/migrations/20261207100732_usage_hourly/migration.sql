-- CreateTable
CREATE TABLE "usage_hourly_endpoints" (
    "user_id" INTEGER NOT NULL,
    "hour" TIMESTAMPTZ(3) NOT NULL,
    "endpoint" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "requests" BIGINT NOT NULL,
    "errors" BIGINT NOT NULL,
    "client_errors" BIGINT NOT NULL,
    "rate_limited" BIGINT NOT NULL,
    "latency" JSONB NOT NULL,

    CONSTRAINT "usage_hourly_endpoints_pkey" PRIMARY KEY ("user_id","hour","endpoint","method")
);

-- CreateTable
CREATE TABLE "usage_hourly_keys" (
    "hour" TIMESTAMPTZ(3) NOT NULL,
    "api_key_id" INTEGER NOT NULL,
    "user_id" INTEGER NOT NULL,
    "requests" BIGINT NOT NULL,
    "errors" BIGINT NOT NULL,

    CONSTRAINT "usage_hourly_keys_pkey" PRIMARY KEY ("hour","api_key_id")
);

-- CreateIndex
CREATE INDEX "usage_hourly_keys_user_id_hour_idx" ON "usage_hourly_keys"("user_id", "hour");

-- CreateIndex (autosummarize: a block range is summarized as soon as the next one is written,
-- rather than at the partition's next vacuum, so the latest hours are found through it too)
CREATE INDEX "api_usage_created_at_idx" ON "api_usage" USING BRIN ("created_at") WITH (autosummarize = on);

-- A response time's latency bucket: 0 below 0.1 ms, then 8 buckets per doubling (each 9.05%
-- wider than the last), the last (199) open-ended, from about 47 minutes.
CREATE FUNCTION usage_latency_bucket(seconds double precision) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN seconds < 0.0001 THEN 0
              ELSE least(199, 1 + floor(8 * ln(seconds * 10000) / ln(2)))::integer END
$$;

-- The bodies below are E'' strings with \073 for each semicolon: Prisma's driver adapter
-- (prisma migrate deploy) splits a migration at every semicolon, inside dollar quotes too.
--
-- Adds the rows of a usage table (api_usage's columns) to the hourly tables. Rows are locked in
-- one order, so two writers adding to the same hour wait for each other rather than deadlock.
CREATE FUNCTION usage_hourly_add() RETURNS trigger
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
    latency = (
      SELECT jsonb_object_agg(bucket, n)
      FROM (
        SELECT bucket, sum(n::bigint) AS n
        FROM (SELECT * FROM jsonb_each_text(t.latency) UNION ALL SELECT * FROM jsonb_each_text(excluded.latency)) AS both_(bucket, n)
        GROUP BY bucket
      ) merged
    )\073

  INSERT INTO usage_hourly_keys AS t (hour, api_key_id, user_id, requests, errors)
  SELECT date_trunc(''hour'', created_at, ''UTC''), api_key_id, min(user_id), count(*),
         count(*) FILTER (WHERE status_code >= 500)
  FROM new_usage
  GROUP BY 1, 2
  ORDER BY 1, 2
  ON CONFLICT (hour, api_key_id) DO UPDATE SET
    requests = t.requests + excluded.requests,
    errors = t.errors + excluded.errors\073
  RETURN NULL\073
END
';

-- The trigger and the count of the requests already stored, in one statement holding off
-- inserts, so every request is counted once, by one or the other, whether the runner applies this
-- migration in a transaction (pnpm db:migrate) or statement by statement (prisma migrate deploy).
-- A statement trigger sees only the rows the statement inserted (not those ON CONFLICT skipped),
-- all at once, and the stored rows are aggregated as it aggregates them.
DO E'
BEGIN
  LOCK TABLE api_usage IN SHARE ROW EXCLUSIVE MODE\073

  CREATE TRIGGER usage_hourly_add AFTER INSERT ON api_usage
    REFERENCING NEW TABLE AS new_usage
    FOR EACH STATEMENT EXECUTE FUNCTION usage_hourly_add()\073

  INSERT INTO usage_hourly_endpoints
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
      FROM api_usage
    ) r
    GROUP BY GROUPING SETS ((user_id, hour, endpoint, method, bucket), (hour, endpoint, method, bucket))
  ) b
  GROUP BY user_id, hour, endpoint, method\073

  INSERT INTO usage_hourly_keys (hour, api_key_id, user_id, requests, errors)
  SELECT date_trunc(''hour'', created_at, ''UTC''), api_key_id, min(user_id), count(*),
         count(*) FILTER (WHERE status_code >= 500)
  FROM api_usage
  GROUP BY 1, 2\073
END
';
