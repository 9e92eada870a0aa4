//! Text, from a file's bytes to what the search needs: [`shingle`] normalises and cuts it
//! into features, [`simhash`] hashes them (CityHash128, `city`) into a fingerprint and, in
//! the same pass, [`minhash`] band keys and the [`sketch`] verification compares before it
//! reads a text again; [`texts`] says what is kept of a fingerprinted
//! text and how it is read again for verification; [`corpus`] does this for every file in
//! parallel and [`batch`] for texts held in memory.

pub mod shingle;
mod city;
pub mod sketch;
pub mod minhash;
pub mod simhash;
pub mod texts;
pub mod corpus;
pub mod batch;
pub mod units;
