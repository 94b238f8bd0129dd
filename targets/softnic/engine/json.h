// A small JSON DOM for loading BMv2 JSON at pipeline load time (never on the packet path).
// Numbers keep their source text so that wide values are not rounded through double.
#ifndef NFP_SOFTNIC_JSON_H
#define NFP_SOFTNIC_JSON_H

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace nfp_softnic {

struct Json {
	enum class Kind : uint8_t { Null, Bool, Number, String, Array, Object };
	Kind kind = Kind::Null;
	bool b = false;
	std::string text; // string value, or a number's source text
	std::vector<Json> items;                          // Array
	std::vector<std::pair<std::string, Json>> fields; // Object, in source order

	bool is_null() const { return kind == Kind::Null; }
	bool is_array() const { return kind == Kind::Array; }
	bool is_object() const { return kind == Kind::Object; }
	bool is_string() const { return kind == Kind::String; }
	bool is_number() const { return kind == Kind::Number; }
	bool is_bool() const { return kind == Kind::Bool; }
	/** The member `key`, or nullptr when absent (or when this is not an object). */
	const Json *get(const char *key) const;
	/** Integer value of a number; false when not an integral number. */
	bool as_int(int64_t *out) const;
};

/** Parses `src`; on failure returns false and sets `err` to a message with the byte offset. */
bool json_parse(const std::string &src, Json *out, std::string *err);

} // namespace nfp_softnic

#endif
