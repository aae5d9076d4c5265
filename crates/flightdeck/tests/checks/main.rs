//! Checks of the product as a whole: every fuzz corpus input through its target, and
//! the house rules the compiler cannot keep (layers that point one way, file sizes).

mod fuzz_corpus;
mod house;
