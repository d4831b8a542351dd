-- Engagement over the people asked (PRODUCT.md): a group's stored week
-- keeps how many were asked, how many responded and how many went silent
-- over their last prompted weeks; momentum stays the last published value.
ALTER TABLE weekly_trends RENAME COLUMN active TO responded;
ALTER TABLE weekly_trends RENAME COLUMN inactive_two_weeks TO silent;
ALTER TABLE weekly_trends ADD COLUMN asked BIGINT NOT NULL DEFAULT 0;
-- Figures by manager are no longer kept: a score per manager's team turns
-- support into control.
DELETE FROM weekly_trends WHERE group_key LIKE 'manager:%';
-- Momentum carried exactly from week to week (the f64's bits): a value in
-- millionths drifts off a .5 boundary and can flip the published percentage.
ALTER TABLE weekly_trends ADD COLUMN momentum_bits BIGINT;
-- Figures that accumulate over weeks, as last published: republished only
-- once k of their contributions changed. Contributions are participant ids
-- with a fingerprint of what they contributed, never the value itself.
CREATE TABLE held_figures (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    program_id BIGINT NOT NULL REFERENCES programs(id),
    figure TEXT NOT NULL,
    week TEXT NOT NULL,
    value TEXT NOT NULL,
    contributions TEXT NOT NULL,
    PRIMARY KEY (org_id, program_id, figure)
);
