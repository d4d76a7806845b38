//! `reference-server migrate-store --from URL --to URL`: moves a chat to another database with
//! `chatcore_sql::transfer` (see its docs for what is copied and what is promised), printing
//! progress and the verified counts.

use std::io::Write;

use anyhow::{Context, bail};
use chatcore_sql::transfer::{self, Progress, Summary, TransferError};
use chatcore_sql::{Dialect, SqlStore};

use crate::storage::{Backend, open_store, redact};

/// Copies every row of the database at `from` into the empty (or interruptedly copied)
/// database at `to`, creating its schema, writing progress and the result to `out`. Both are
/// `--database` URLs of SQL stores; the server must not be running on either.
pub async fn migrate_store(from: &str, to: &str, out: &mut impl Write) -> anyhow::Result<Summary> {
    if from == to {
        bail!("--from and --to name the same database");
    }
    writeln!(out, "copying {} to {}", redact(from), redact(to))?;
    let (_, source) = open_store(from)
        .await
        .context("cannot open the source (--from)")?;
    let target = match open_store(to).await {
        Ok((_, target)) => target,
        Err(err) => {
            source.close().await;
            return Err(err.context("cannot open the target (--to)"));
        }
    };
    let mut report = ProgressLines::new(&mut *out);
    let copied = copy(&source, &target, |p| report.show(p)).await;
    let failed = report.failed;
    source.close().await;
    target.close().await;
    let summary = copied?;
    failed?;
    if summary.resumed {
        writeln!(out, "resumed an interrupted copy")?;
    }
    let counts: Vec<String> = summary
        .rows
        .iter()
        .map(|(table, rows)| format!("{table} {rows}"))
        .collect();
    writeln!(out, "copied: {}", counts.join(", "))?;
    writeln!(
        out,
        "verified: every table's row count and the last seq of all {} rooms match",
        summary.rooms_verified
    )?;
    Ok(summary)
}

async fn copy(
    from: &Backend,
    to: &Backend,
    progress: impl FnMut(&Progress),
) -> anyhow::Result<Summary> {
    match from {
        Backend::Sqlite(store) => copy_from(store, to, progress).await,
        Backend::MySql(store) => copy_from(store, to, progress).await,
        Backend::Postgres(store) => copy_from(store, to, progress).await,
        Backend::Memory => bail!("the in-memory store cannot be copied"),
    }
}

async fn copy_from<S: Dialect>(
    from: &SqlStore<S>,
    to: &Backend,
    progress: impl FnMut(&Progress),
) -> anyhow::Result<Summary> {
    let copied: Result<Summary, TransferError> = match to {
        Backend::Sqlite(store) => transfer::copy_store(from, store, progress).await,
        Backend::MySql(store) => transfer::copy_store(from, store, progress).await,
        Backend::Postgres(store) => transfer::copy_store(from, store, progress).await,
        Backend::Memory => bail!("the in-memory store cannot be copied into"),
    };
    Ok(copied?)
}

/// Prints a table's progress at every tenth of it and when it is complete.
struct ProgressLines<W> {
    out: W,
    table: &'static str,
    tenths: u64,
    failed: std::io::Result<()>,
}

impl<W: Write> ProgressLines<W> {
    fn new(out: W) -> Self {
        ProgressLines {
            out,
            table: "",
            tenths: 0,
            failed: Ok(()),
        }
    }

    fn show(&mut self, p: &Progress) {
        let tenths = (p.copied * 10).checked_div(p.total).unwrap_or(10);
        if p.table != self.table {
            (self.table, self.tenths) = (p.table, tenths);
        } else if tenths == self.tenths && p.copied != p.total {
            return;
        }
        self.tenths = tenths;
        if self.failed.is_ok() {
            self.failed = writeln!(self.out, "{}: {} of {} rows", p.table, p.copied, p.total);
        }
    }
}
