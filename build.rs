//! The migrations are embedded at compile time (refinery's `embed_migrations!`): a new or
//! changed migration file must rebuild the crate, which cargo does not know by itself.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
