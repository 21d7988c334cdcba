-- One database per service (no service reads another's). The postgres image runs this once,
-- when the data volume is empty, as the POSTGRES_USER superuser, which then owns all four.
-- Schemas are created afterwards by `disputedesk migrate` (Alembic, per service).
CREATE DATABASE intake;
CREATE DATABASE fraud;
CREATE DATABASE reconciliation;
CREATE DATABASE notifications;
