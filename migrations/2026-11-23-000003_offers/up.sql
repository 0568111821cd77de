-- The catalog of offers (tilbud og indsatsmuligheder) each department has, that plan
-- interventions can point to.
CREATE TABLE offers (
    id             uuid PRIMARY KEY,
    name           text NOT NULL,
    department     text NOT NULL,
    category       text NOT NULL,
    description    text,
    track          text NOT NULL CHECK (track IN ('youth', 'adult', 'both')),
    unit_cost_ore  bigint CHECK (unit_cost_ore >= 0),
    active         boolean NOT NULL DEFAULT true,
    version        integer NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX offers_department ON offers (department, category);
