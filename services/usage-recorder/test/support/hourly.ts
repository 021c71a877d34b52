import type { PrismaClient } from "@apimon/db";

/**
 * The rows by which the hourly usage tables differ from what api_usage's requests add up to
 * (each table's surplus and shortfall); empty when they agree. A key's user is left out of the
 * comparison: tests reuse key ids under other users, which the product never does.
 */
export async function hourlyDrift(prisma: PrismaClient): Promise<Record<string, unknown>[]> {
  return prisma.$queryRaw<Record<string, unknown>[]>`
    with expected_endpoints as (
      select user_id, hour, endpoint, method, sum(requests) as requests, sum(errors) as errors,
             sum(client_errors) as client_errors, sum(rate_limited) as rate_limited,
             jsonb_object_agg(bucket, requests) as latency
      from (
        select coalesce(user_id, 0) as user_id, hour, endpoint, method, bucket, count(*) as requests,
               count(*) filter (where status_code >= 500) as errors,
               count(*) filter (where status_code between 400 and 499) as client_errors,
               count(*) filter (where rate_limited) as rate_limited
        from (select user_id, date_trunc('hour', created_at, 'UTC') as hour, endpoint, method, status_code,
                     rate_limited, usage_latency_bucket(response_time) as bucket from api_usage) r
        group by grouping sets ((user_id, hour, endpoint, method, bucket), (hour, endpoint, method, bucket))
      ) b
      group by user_id, hour, endpoint, method
    ), stored_endpoints as (
      select user_id, hour, endpoint, method, requests::numeric, errors::numeric,
             client_errors::numeric, rate_limited::numeric, latency
      from usage_hourly_endpoints
    ), expected_keys as (
      select hour, api_key_id, sum(requests) as requests, sum(errors) as errors,
             sum(client_errors) as client_errors, sum(rate_limited) as rate_limited,
             jsonb_object_agg(bucket, requests) as latency
      from (
        select date_trunc('hour', created_at, 'UTC') as hour, api_key_id,
               usage_latency_bucket(response_time) as bucket, count(*) as requests,
               count(*) filter (where status_code >= 500) as errors,
               count(*) filter (where status_code between 400 and 499) as client_errors,
               count(*) filter (where rate_limited) as rate_limited
        from api_usage group by 1, 2, 3
      ) b
      group by hour, api_key_id
    ), stored_keys as (
      select hour, api_key_id, requests::numeric, errors::numeric, client_errors::numeric,
             rate_limited::numeric, latency
      from usage_hourly_keys
    )
    select 'usage_hourly_endpoints: missing' as drift, to_jsonb(d) as row
      from (select * from expected_endpoints except select * from stored_endpoints) d
    union all
    select 'usage_hourly_endpoints: surplus', to_jsonb(d)
      from (select * from stored_endpoints except select * from expected_endpoints) d
    union all
    select 'usage_hourly_keys: missing', to_jsonb(d)
      from (select * from expected_keys except select * from stored_keys) d
    union all
    select 'usage_hourly_keys: surplus', to_jsonb(d)
      from (select * from stored_keys except select * from expected_keys) d`;
}
