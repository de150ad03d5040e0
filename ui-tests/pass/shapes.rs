//! Every shape `#[derive(Message)]` accepts.

use std::fmt::Debug;

use airssys_rt::{Message, Storage};

#[derive(Message)]
struct Named {
    id: u64,
    label: String,
}

#[derive(Message)]
struct Tuple(u64, u32);

#[derive(Message)]
struct Unit;

#[derive(Message)]
#[message(result = Result<u64, String>)]
enum Command {
    Start { at: u64 },
    Stop,
    Restart(u32),
}

#[derive(Message)]
#[message(result = Option<T>)]
struct Generic<T: Clone + Debug> {
    value: T,
}

#[derive(Message)]
struct WhereClause<K, V>(K, V)
where
    K: Ord,
    V: Default;

#[derive(Message)]
struct ConstGeneric<const N: usize>([u8; N]);

#[derive(Message)]
#[message(result = u64)]
#[message(name = "billing.Charge")]
#[message(boxed)]
struct Charge {
    invoice: [u8; 512],
}

#[derive(Message)]
#[message(inline)]
struct ExactlyAtTheLimit([u64; 5]);

#[derive(Message)]
#[message(inline)]
struct InlineGeneric<T>(T);

mod billing {
    #[derive(airssys_rt::Message)]
    pub struct Invoice;
}

fn assert_result<M: Message<Result = R>, R>() {}

fn main() {
    assert_result::<Named, ()>();
    assert_result::<Command, Result<u64, String>>();
    assert_result::<Generic<String>, Option<String>>();
    assert_result::<Charge, u64>();

    assert_eq!(Charge::MESSAGE_TYPE, "billing.Charge");
    assert_eq!(Named::MESSAGE_TYPE, concat!(module_path!(), "::Named"));
    assert_eq!(billing::Invoice::MESSAGE_TYPE, concat!(module_path!(), "::billing::Invoice"));
    assert_eq!(Generic::<u8>::MESSAGE_TYPE, Generic::<String>::MESSAGE_TYPE);

    assert_eq!(Named::STORAGE, Storage::Inline);
    assert_eq!(Unit::STORAGE, Storage::Inline);
    assert_eq!(Charge::STORAGE, Storage::Boxed);
    assert_eq!(ConstGeneric::<8>::STORAGE, Storage::Inline);
    assert_eq!(ConstGeneric::<64>::STORAGE, Storage::Boxed);
    assert_eq!(ExactlyAtTheLimit::STORAGE, Storage::Inline);
    assert_eq!(InlineGeneric::<u32>::STORAGE, Storage::Inline);
    assert_eq!(<WhereClause<u8, u8>>::STORAGE, Storage::Inline);
    assert_eq!(Tuple::STORAGE, Storage::Inline);
}
