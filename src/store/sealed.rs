//! Every value sealed under an organisation's data key, column by column,
//! read and rewritten in batches when the data is re-keyed.

use super::{col, OrgId, Result, Store};

/// A column of sealed values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedColumn {
    /// `notes.sealed`: a participant's private notes.
    Notes,
    /// `diagnoses.sealed`: a participant's starting point.
    StartingPoints,
    /// `slack_installations.token_sealed`: a workspace's bot token.
    SlackTokens,
    /// `steps.sealed`: the small steps participants name.
    Steps,
}

impl SealedColumn {
    pub const ALL: [SealedColumn; 4] = [
        SealedColumn::Notes,
        SealedColumn::StartingPoints,
        SealedColumn::SlackTokens,
        SealedColumn::Steps,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SealedColumn::Notes => "notes",
            SealedColumn::StartingPoints => "starting points",
            SealedColumn::SlackTokens => "Slack tokens",
            SealedColumn::Steps => "small steps",
        }
    }

    /// (table, row key, what the seal is bound to, sealed column).
    fn sql(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            SealedColumn::Notes => ("notes", "id", "person_id", "sealed"),
            SealedColumn::StartingPoints => {
                ("diagnoses", "participant_id", "participant_id", "sealed")
            }
            SealedColumn::SlackTokens => {
                ("slack_installations", "team_id", "team_id", "token_sealed")
            }
            SealedColumn::Steps => ("steps", "id", "participant_id", "sealed"),
        }
    }

    fn text_key(self) -> bool {
        self == SealedColumn::SlackTokens
    }
}

/// A row's key: an id, or a text key (a Slack team id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKey {
    Id(i64),
    Text(String),
}

/// One sealed value: its row, what its seal is bound to (a person, a
/// participant or a team: see each column's context) and the bytes.
#[derive(Debug, Clone)]
pub struct SealedValue {
    pub key: RowKey,
    pub bound_to: String,
    pub sealed: Vec<u8>,
}

impl Store {
    /// Up to `limit` of `org`'s sealed values in `column` after `after`, in
    /// key order.
    pub async fn sealed_batch(
        &self,
        column: SealedColumn,
        org: OrgId,
        after: Option<&RowKey>,
        limit: i64,
    ) -> Result<Vec<SealedValue>> {
        let (table, key, bound, sealed) = column.sql();
        // Placeholders numbered in the order they appear (SQLite numbers
        // `$N` by first appearance).
        let sql = match after {
            Some(_) => format!(
                "SELECT {key} AS k, {bound} AS b, {sealed} AS s FROM {table} \
                 WHERE org_id = $1 AND {sealed} IS NOT NULL AND {key} > $2 ORDER BY {key} LIMIT $3"
            ),
            None => format!(
                "SELECT {key} AS k, {bound} AS b, {sealed} AS s FROM {table} \
                 WHERE org_id = $1 AND {sealed} IS NOT NULL ORDER BY {key} LIMIT $2"
            ),
        };
        let mut q = sqlx::query(&sql).bind(org.0);
        q = match after {
            Some(RowKey::Id(n)) => q.bind(*n),
            Some(RowKey::Text(t)) => q.bind(t.clone()),
            None => q,
        };
        let q = q.bind(limit);
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let (key, bound_to) = if column.text_key() {
                    let k: String = col(r, "k")?;
                    (RowKey::Text(k.clone()), k)
                } else {
                    let b: i64 = col(r, "b")?;
                    (RowKey::Id(col(r, "k")?), b.to_string())
                };
                Ok(SealedValue {
                    key,
                    bound_to,
                    sealed: col(r, "s")?,
                })
            })
            .collect()
    }

    /// Replaces sealed values in one transaction: `(row, old, new)`, each
    /// only while it still holds `old` (a value rewritten meanwhile was
    /// sealed under the new key already). Returns how many were replaced.
    pub async fn reseal(
        &self,
        column: SealedColumn,
        org: OrgId,
        values: &[(RowKey, Vec<u8>, Vec<u8>)],
    ) -> Result<u64> {
        let (table, key, _, sealed) = column.sql();
        let sql = format!(
            "UPDATE {table} SET {sealed} = $1 WHERE org_id = $2 AND {key} = $3 AND {sealed} = $4"
        );
        let mut tx = self.pool.begin().await?;
        let mut n = 0;
        for (row, old, new) in values {
            let q = sqlx::query(&sql).bind(new.clone()).bind(org.0);
            let q = match row {
                RowKey::Id(id) => q.bind(*id),
                RowKey::Text(t) => q.bind(t.clone()),
            };
            n += q.bind(old.clone()).execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(n)
    }
}
