//! Identifiers that would become hosts, URL segments or query values are validated before any request.
