//! The embedded demo fleet: simulated clusters that speak the Kubernetes API.

use crate::cli::DemoArgs;

/// `flightdeck demo --serve`: run the simulated fleet until interrupted.
pub async fn serve(_args: DemoArgs) -> color_eyre::Result<()> {
    Err(color_eyre::eyre::eyre!(
        "the simulated fleet is not built yet"
    ))
}
