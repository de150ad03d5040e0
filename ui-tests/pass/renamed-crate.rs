//! `#[message(crate = "...")]` for a runtime crate reached under another path.

mod runtime {
    pub use airssys_rt as rt;
}

#[derive(airssys_rt::Message)]
#[message(crate = "runtime::rt", result = u8)]
struct Ping;

fn main() {
    assert_eq!(<Ping as runtime::rt::Message>::MESSAGE_TYPE, concat!(module_path!(), "::Ping"));
}
