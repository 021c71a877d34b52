-- Trigram indexes for the key and user searches (ILIKE '%text%', and a key prefix's start), which
-- b-tree indexes cannot serve. pg_trgm is a trusted extension: the database's owner may create it.
-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "pg_trgm";

-- An extension is installed once per database, in the schema of whichever deployment created it
-- first. Its schema joins the search path until this migration's transaction ends, so that a
-- deployment in another schema of the same database (DATABASE_SCHEMA) finds its operator class.
SELECT set_config('search_path', current_setting('search_path') || ', ' || quote_ident(n.nspname), true)
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'pg_trgm';

-- CreateIndex
CREATE INDEX "api_keys_name_trgm_idx" ON "api_keys" USING GIN ("name" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "api_keys_key_prefix_trgm_idx" ON "api_keys" USING GIN ("key_prefix" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "users_name_trgm_idx" ON "users" USING GIN ("name" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "users_email_trgm_idx" ON "users" USING GIN ("email" gin_trgm_ops);
