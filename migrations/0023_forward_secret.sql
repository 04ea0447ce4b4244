-- Write forwarding between instances (src/instance/forward_auth.h): each resource has a secret
-- of 256 random bits (two UUIDs' worth of PostgreSQL's strong random source, hashed), handed to
-- its instances by their agents. An old primary signs what it forwards with it, and the new
-- primary takes as forwarded only what is signed, so nothing else can pass itself off as one.
ALTER TABLE resources ADD COLUMN forward_secret text NOT NULL
  DEFAULT encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')),
                 'hex');
