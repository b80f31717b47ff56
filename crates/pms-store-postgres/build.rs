//! Rebuild when a migration is added: `sqlx::migrate!` embeds the directory's files at compile
//! time, and cargo does not see a new file in it otherwise.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
