// MySQL connection strings in the forms the documentation and MySQL's drivers use:
//   mysql://user:password@host:3306/db?sslmode=verify-full&sslrootcert=ca.pem
//   user:password@tcp(host:3306)/db?tls=true          (Go's driver)
//   user:password@(host:3306)/db                       (the documentation's LMS_URL)
//   host=... port=... user=... password=... dbname=... (key=value, as for PostgreSQL)
// Parameters come out under the canonical keys of the plugin ABI; MySQL's own TLS spellings
// (ssl-mode=VERIFY_IDENTITY, tls=skip-verify, ssl-ca=...) become sslmode, sslrootcert, ...
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace lms::mysql {

// Calls on_param for every parameter set. Returns "" on success, else why (never the password).
std::string parse_connection_string(std::string_view text,
                                    const std::function<void(std::string_view, std::string_view)>& on_param);

}  // namespace lms::mysql
