DROP TABLE subscriptions;
DROP INDEX case_events_feed;
ALTER TABLE case_events DROP COLUMN txid;
