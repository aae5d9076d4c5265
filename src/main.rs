use std::process::ExitCode;

use clap::Parser;
use color_eyre::eyre;
use flightdeck::{cockpit, config, headless, logging, metrics, term};

mod cli;
mod heap;

use cli::{Cli, Command};

fn main() -> ExitCode {
    heap::tune();
    let cli = Cli::parse();
    if let Err(error) = term::install_hooks() {
        eprintln!("flightdeck: {error}");
    }
    logging::init();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        // One line, the causes after the error, as a person reads it.
        Err(error) => {
            let causes: Vec<String> = error.chain().map(ToString::to_string).collect();
            eprintln!("flightdeck: {}", causes.join(": "));
            ExitCode::FAILURE
        }
    }
}

/// The metrics backends of the config, if it has any.
fn backends(config: &config::Config) -> eyre::Result<Option<metrics::Backends>> {
    let Some(settings) = &config.metrics else {
        return Ok(None);
    };
    Ok(Some(metrics::Backends::from_config(
        settings,
        &config.metrics_of_contexts,
    )?))
}

/// The exit status: 0, or 128 + the signal that ended the cockpit.
fn run(cli: Cli) -> eyre::Result<u8> {
    let colours = term::colour_profile();
    let runtime = tokio::runtime::Runtime::new()?;
    match cli.command {
        None => {
            let mut config = config::load(colours)?;
            config.policy.readonly |= cli.scope.readonly;
            let scope = cli.scope.cluster(config.namespaces.clone());
            let metrics = backends(&config)?;
            let time = cockpit::Clock::wall();
            let exit = runtime.block_on(cockpit::run(scope, config, metrics, time))?;
            Ok(exit.code())
        }
        Some(Command::Status { output }) => {
            let config = config::load(colours)?;
            let metrics = backends(&config)?;
            let scope = cli.scope.cluster(config.namespaces);
            runtime.block_on(headless::status(&scope, output.into(), metrics))?;
            Ok(0)
        }
        Some(Command::Act(command)) => {
            let config = config::load(colours)?;
            let mut policy = config.policy;
            policy.readonly |= cli.scope.readonly;
            let scope = cli.scope.cluster(config.namespaces);
            runtime
                .block_on(headless::act(&scope, &command.request(), &policy))
                .map_err(eyre::Report::msg)?;
            Ok(0)
        }
        Some(Command::Audit { since, output }) => {
            headless::audit(&since, output.into()).map_err(eyre::Report::msg)?;
            Ok(0)
        }
        Some(Command::Record) => {
            let config = config::load(colours)?;
            let metrics = backends(&config)?;
            let scope = cli.scope.cluster(config.namespaces.clone());
            runtime
                .block_on(headless::record(
                    &scope,
                    &config.ledger,
                    &config.dora,
                    metrics,
                ))
                .map_err(eyre::Report::msg)?;
            Ok(0)
        }
        Some(Command::Dora { since, by, output }) => {
            let config = config::load(colours)?;
            let by = cli::DoraBy::grouping(by);
            headless::dora(&since, by, output.into(), &config.ledger, &config.dora)
                .map_err(eyre::Report::msg)?;
            Ok(0)
        }
        Some(Command::Changes { since, output }) => {
            let config = config::load(colours)?;
            headless::changes(&since, output == cli::Output::Json, &config.ledger)
                .map_err(eyre::Report::msg)?;
            Ok(0)
        }
        Some(Command::Bench { only }) => flightdeck_bench::run(&runtime, &only).map(|()| 0),
        Some(Command::Demo(args)) if args.serve => runtime
            .block_on(flightdeck_demo::serve(args.options()))
            .map(|()| 0),
        Some(Command::Demo(args)) => {
            let mut config = config::load(colours)?;
            config.policy.readonly |= cli.scope.readonly;
            let scope = cli.scope.cluster(config.namespaces.clone());
            let exit = runtime.block_on(flightdeck_demo::run(args.options(), scope, config))?;
            Ok(exit.code())
        }
    }
}
