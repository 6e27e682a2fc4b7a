-- The PostgreSQL peer of the end-to-end benchmark (bench/postgres_peer.sh):
-- the job Homeward does, done the way a team would without it. The NDJSON
-- lines are already in `raw(seq, doc jsonb)` (COPY, in log order); this file
-- types them, applies the ledger rules of SPEC section 4 for the subset of
-- event types the benchmark loads (CaseOpened, DonationReceived, PledgeMade,
-- PledgeFulfilled, PledgeCancelled, RefundIssued), and computes the SPEC
-- section 5 figures of every case into `figures`. Amounts are exact: bigint
-- minor units (numeric only to parse the decimal strings).
--
-- Where the set-based SQL is simpler than the sequential rules (stated so
-- that a mismatch can be understood; bench/postgres_peer.sh compares every
-- figure with Homeward's and fails on any difference):
--   * "identical" duplicates compare the JSON documents (the generator writes
--     canonical lines, so equal documents are equal events);
--   * insufficient_funds for a refund compares with the running net of the
--     earlier donations and earlier refunds that passed their own donation
--     checks, which is exact unless an earlier refund was itself rejected
--     insufficient_funds;
--   * the overflow checks are left out (no generated total comes near 2^63).

\set ON_ERROR_STOP on

CREATE TEMP TABLE currencies (code text PRIMARY KEY, exponent int NOT NULL);
INSERT INTO currencies VALUES
  ('USD', 2), ('EUR', 2), ('THB', 2), ('IDR', 2), ('PHP', 2), ('GBP', 2), ('AUD', 2),
  ('JPY', 0), ('KRW', 0), ('VND', 0), ('KWD', 3), ('BHD', 3), ('OMR', 3), ('JOD', 3);

-- Typed events, with their handling key (case_id, event_id) numbered in log order.
CREATE TABLE ev AS
SELECT r.seq,
       r.doc ->> 'type' AS type,
       r.doc ->> 'event_id' AS event_id,
       r.doc ->> 'case_id' AS case_id,
       (r.doc ->> 'occurred_at')::timestamptz AS occurred_at,
       r.doc ->> 'currency' AS currency,
       r.doc ->> 'donor_ref' AS donor_ref,
       r.doc ->> 'donation_id' AS donation_id,
       r.doc ->> 'pledge_id' AS pledge_id,
       r.doc ->> 'reason' AS reason,
       round((r.doc ->> 'amount')::numeric * 10 ^ c.exponent)::bigint AS amount,
       round(coalesce((r.doc ->> 'goal')::numeric,
                      (SELECT sum((b ->> 'amount')::numeric)
                       FROM jsonb_array_elements(r.doc -> 'budget') b)) * 10 ^ c.exponent)::bigint
         AS goal,
       row_number() OVER w AS nth,
       r.doc = first_value(r.doc) OVER w AS same_as_first
FROM raw r
LEFT JOIN currencies c ON c.code = r.doc ->> 'currency'
WINDOW w AS (PARTITION BY r.doc ->> 'case_id', r.doc ->> 'event_id' ORDER BY r.seq);
CREATE INDEX ev_case ON ev (case_id, seq);

-- Step 1 of SPEC section 4: a repeated event id in a case is a duplicate or a conflict.
-- Opening: the first CaseOpened of a case (first-seen ids only) opens it.
CREATE TABLE opened AS
SELECT DISTINCT ON (case_id) case_id, seq AS open_seq, currency, goal, occurred_at AS opened_at
FROM ev WHERE nth = 1 AND type = 'CaseOpened'
ORDER BY case_id, seq;
CREATE UNIQUE INDEX opened_case ON opened (case_id);

-- First-seen events after their case opened, of the right currency: the
-- candidates that only the type's own checks can still reject.
CREATE TABLE live AS
SELECT e.* FROM ev e JOIN opened o USING (case_id)
WHERE e.nth = 1 AND e.seq > o.open_seq AND e.type <> 'CaseOpened'
  AND (e.type IN ('PledgeFulfilled', 'PledgeCancelled') OR e.currency = o.currency);

CREATE TABLE pledges AS
SELECT case_id, seq, event_id AS pledge_id, donor_ref, amount FROM live WHERE type = 'PledgeMade';
CREATE UNIQUE INDEX pledges_id ON pledges (case_id, pledge_id);

-- A settle applies when its pledge was made before it and no earlier settle applied.
CREATE TABLE settles AS
SELECT s.case_id, s.seq, s.event_id, s.type, s.occurred_at, p.donor_ref, p.amount, p.pledge_id,
       row_number() OVER (PARTITION BY s.case_id, s.pledge_id ORDER BY s.seq) AS nth_settle
FROM live s JOIN pledges p ON p.case_id = s.case_id AND p.pledge_id = s.pledge_id AND p.seq < s.seq
WHERE s.type IN ('PledgeFulfilled', 'PledgeCancelled');
DELETE FROM settles WHERE nth_settle > 1;

-- Every applied donation: DonationReceived and fulfilled pledges (id = the event's id).
CREATE TABLE donations AS
SELECT case_id, seq, event_id AS donation_id, donor_ref, amount, occurred_at
FROM live WHERE type = 'DonationReceived'
UNION ALL
SELECT case_id, seq, event_id, donor_ref, amount, occurred_at FROM settles WHERE type = 'PledgeFulfilled';
CREATE UNIQUE INDEX donations_id ON donations (case_id, donation_id);

-- Refunds: the donation must exist before it, the refund must fit what is
-- left of the donation, and (unless a chargeback) what the case has available.
CREATE TABLE refund_candidates AS
SELECT r.case_id, r.seq, r.event_id, r.amount, r.reason, r.occurred_at, d.amount AS donation_amount,
       sum(r.amount) OVER (PARTITION BY r.case_id, r.donation_id ORDER BY r.seq) AS refunded_so_far
FROM live r JOIN donations d ON d.case_id = r.case_id AND d.donation_id = r.donation_id AND d.seq < r.seq
WHERE r.type = 'RefundIssued';
DELETE FROM refund_candidates WHERE refunded_so_far > donation_amount;

CREATE TABLE money_moves AS
SELECT case_id, seq, occurred_at, amount AS delta, NULL::text AS reason, false AS is_refund
FROM donations
UNION ALL
SELECT case_id, seq, occurred_at, -amount, reason, true FROM refund_candidates;
CREATE TABLE moves_running AS
SELECT m.*, sum(delta) OVER (PARTITION BY case_id ORDER BY seq) AS net_after FROM money_moves m;
DELETE FROM moves_running
WHERE is_refund AND reason <> 'chargeback' AND net_after < 0;

-- The figures of SPEC section 5 per opened case (no disbursements, goal
-- changes or closes in this subset: disbursed = 0, available = net, status
-- open or funded).
CREATE TABLE figures AS
WITH money AS (
  SELECT case_id,
         coalesce(sum(delta) FILTER (WHERE NOT is_refund), 0) AS received,
         coalesce(-sum(delta) FILTER (WHERE is_refund), 0) AS refunded,
         count(*) FILTER (WHERE is_refund) AS refunds
  FROM moves_running GROUP BY case_id),
gifts AS (
  SELECT case_id, count(*) AS donations, count(DISTINCT donor_ref) AS donors
  FROM donations GROUP BY case_id),
outstanding AS (
  SELECT p.case_id, sum(p.amount) AS pledged
  FROM pledges p LEFT JOIN settles s ON s.case_id = p.case_id AND s.pledge_id = p.pledge_id
  WHERE s.seq IS NULL GROUP BY p.case_id),
funded AS (
  SELECT DISTINCT ON (m.case_id) m.case_id, m.occurred_at AS fully_funded_at
  FROM (SELECT case_id, seq, occurred_at,
               sum(delta) OVER (PARTITION BY case_id ORDER BY seq) AS net_after
        FROM moves_running) m
  JOIN opened o USING (case_id)
  WHERE m.net_after >= o.goal
  ORDER BY m.case_id, m.seq),
applied AS (
  SELECT case_id, count(*) AS n FROM (
    SELECT case_id FROM moves_running
    UNION ALL SELECT case_id FROM pledges
    UNION ALL SELECT case_id FROM settles WHERE type = 'PledgeCancelled') a
  GROUP BY case_id),
after_open AS (
  SELECT e.case_id,
         count(*) FILTER (WHERE e.nth > 1 AND e.same_as_first) AS duplicates,
         count(*) AS handled
  FROM ev e JOIN opened o USING (case_id) WHERE e.seq > o.open_seq GROUP BY e.case_id)
SELECT o.case_id, o.currency, o.goal,
       coalesce(m.received, 0) AS received, coalesce(m.refunded, 0) AS refunded,
       coalesce(m.received, 0) - coalesce(m.refunded, 0) AS net,
       coalesce(p.pledged, 0) AS pledged,
       coalesce(g.donations, 0) AS donations, coalesce(g.donors, 0) AS donors,
       coalesce(m.refunds, 0) AS refunds,
       f.fully_funded_at, o.opened_at,
       1 + coalesce(a.n, 0) AS events_applied,
       coalesce(x.duplicates, 0) AS duplicates,
       coalesce(x.handled, 0) - coalesce(x.duplicates, 0) - coalesce(a.n, 0) AS events_rejected
FROM opened o
LEFT JOIN money m USING (case_id)
LEFT JOIN gifts g USING (case_id)
LEFT JOIN outstanding p USING (case_id)
LEFT JOIN funded f USING (case_id)
LEFT JOIN applied a USING (case_id)
LEFT JOIN after_open x USING (case_id);
