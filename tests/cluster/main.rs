//! The cluster side against the simulated fleet, a fake API server and Argo Rollouts'
//! fixtures: mapping, watching, the links users have, and the actions (in-process and as
//! the headless binary).

mod actions;
mod headless;
mod links;
mod map;
mod memory;
mod watch;

#[global_allocator]
static ALLOCATOR: memory::Counting = memory::Counting;
