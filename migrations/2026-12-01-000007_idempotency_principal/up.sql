-- An Idempotency-Key belongs to one principal: issuer, subject and department. A central identity
-- provider issues tokens with one sub for several departments, and those are different people
-- in this service's eyes (they see different cases), so one must never be replayed the other's
-- answer. Keys stored before this change name no department and are never replayed again.
ALTER TABLE idempotency_keys ADD COLUMN actor_dept text NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ALTER COLUMN actor_dept DROP DEFAULT;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (actor_iss, actor_sub, actor_dept, key);

-- The audit entry of the first answer, when it carries personal data: a replay passes the access
-- rule again for the case it names and is audited like the first answer.
ALTER TABLE idempotency_keys ADD COLUMN audit jsonb;
