-- Per-epoch progress of a job's current attempt (phase, stage, epoch, loss, validation HR@10,
-- samples/s), kept for training curves; the result's manifest keeps the evaluated run's.
ALTER TABLE jobs ADD COLUMN history TEXT;
