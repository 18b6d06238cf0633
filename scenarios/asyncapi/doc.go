// Package asyncapi turns AsyncAPI 3.0 documents, one per application, into a scenario
// file (docs/scenario-format.md): each document's application becomes an app, its
// channels become topics, its send and receive operations become the app's may-publish
// and may-subscribe ACL, and each message's payload schema becomes a contract. The file
// it writes loads with scenarios.Parse and runs: every app sends one example of each
// message it sends, and every app that receives a channel counts what it hears, with a
// commented place for the reactions the documents cannot say.
//
// Reading is strict and bounded: a document is at most MaxDocSize bytes, references are
// local JSON pointers (#/...) only, so reading a document never reads another file or
// the network, and every mistake is an *Error with the document's name, line and column.
package asyncapi
