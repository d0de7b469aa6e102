-- Stages the changes captured up to the run's logical time (the one execution parameter) into the
-- staging table that the merge job reads.
INSERT INTO staging.orders_changes
SELECT order_id, op, changed_at, payload
FROM lake.orders_changes
WHERE changed_at < from_iso8601_timestamp(?)
