use clap::Parser;
use flightdeck::cli::{Cli, Command};

fn main() -> color_eyre::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    match cli.command {
        Some(Command::Demo(args)) if args.serve => runtime.block_on(flightdeck::sim::serve(args)),
        _ => Err(color_eyre::eyre::eyre!("the cockpit is not built yet")),
    }
}
