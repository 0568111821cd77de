ALTER TABLE idempotency_keys DROP COLUMN audit;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
DELETE FROM idempotency_keys a USING idempotency_keys b
 WHERE a.actor_iss = b.actor_iss AND a.actor_sub = b.actor_sub AND a.key = b.key AND a.actor_dept > b.actor_dept;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (actor_iss, actor_sub, key);
ALTER TABLE idempotency_keys DROP COLUMN actor_dept;
