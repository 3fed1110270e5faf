//! `afterimage state info FILE`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::engine::{decay_name, LimitPolicy};
use crate::state;

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// A state file written by `extract --state-out` or the C ABI.
    file: PathBuf,
}

pub fn run(args: &InfoArgs) -> Result<ExitCode, String> {
    let engine = state::load_from_path(&args.file, None).map_err(|error| format!("{}: {error}", args.file.display()))?;
    let config = engine.config();
    let stats = engine.stats();
    let decay: Vec<String> = config.decay_factors.iter().map(|&factor| decay_name(factor)).collect();
    let file_size = std::fs::metadata(&args.file).map(|metadata| metadata.len()).unwrap_or(0);
    println!("file:              {}", args.file.display());
    println!("format version:    {}", state::FORMAT_VERSION);
    println!("file size:         {file_size} bytes");
    println!("decay factors:     {}", decay.join(","));
    println!("record limit:      {}", config.record_limit.map_or_else(|| "none".to_string(), |limit| limit.to_string()));
    println!(
        "limit policy:      {}",
        match config.limit_policy {
            LimitPolicy::Reject => "reject",
            LimitPolicy::Evict => "evict",
        }
    );
    println!("cleaning interval: {} updates", config.cleaning_interval);
    println!("updates:           {}", stats.updates);
    println!(
        "last timestamp:    {}",
        engine.last_timestamp().map_or_else(|| "none".to_string(), crate::output::python_float)
    );
    println!("records:           {}", stats.records);
    println!("links:             {}", stats.links);
    println!("memory when loaded: {} bytes", stats.bytes);
    Ok(ExitCode::SUCCESS)
}
