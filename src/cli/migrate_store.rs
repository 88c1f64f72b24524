//! `hookd migrate-store`: the command around [`crate::store::migrate`], with its output and
//! exit codes (0 copied and verified, 1 refused or failed, 2 a source that is not sqlite:PATH).

/// `hookd migrate-store`: prints what was copied, table by table.
pub fn run(
    from: &str,
    to: Option<String>,
    configured: Option<&crate::config::DatabaseUrl>,
    force: bool,
) -> i32 {
    let target = match to {
        Some(t) => crate::config::DatabaseUrl::try_from(t),
        None => configured
            .cloned()
            .ok_or_else(|| "no --to, and no database is configured".to_string()),
    }
    .and_then(|t| t.resolve());
    let target = match target {
        Ok(t) => t,
        Err(e) => {
            eprintln!("hookd: migrate-store: {e}");
            return 1;
        }
    };
    let source = match crate::store::migrate::sqlite_path(from) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("hookd: migrate-store: {e}");
            return 2;
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hookd: migrate-store: {e}");
            return 1;
        }
    };
    let copied = rt.block_on(crate::store::migrate::sqlite_to_postgres(
        &source, &target, force,
    ));
    match copied {
        Ok(tables) => {
            println!(
                "Copied {} into {}:",
                source.display(),
                crate::store::postgres::redacted(&target)
            );
            for t in tables {
                println!("  {:<16} {:>9} of {:>9}", t.table, t.target, t.source);
            }
            0
        }
        Err(e) => {
            eprintln!("hookd: migrate-store: {e}");
            1
        }
    }
}
