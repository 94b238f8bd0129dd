// Recursive-descent JSON parser (RFC 8259) for pipeline load; depth-limited, no exceptions.
#include "json.h"

#include <cstdlib>
#include <cstring>

namespace nfp_softnic {

const Json *Json::get(const char *key) const {
	if (kind != Kind::Object) return nullptr;
	for (const auto &kv : fields)
		if (kv.first == key) return &kv.second;
	return nullptr;
}

bool Json::as_int(int64_t *out) const {
	if (kind != Kind::Number || text.empty()) return false;
	char *end = nullptr;
	long long v = std::strtoll(text.c_str(), &end, 10);
	if (*end != '\0') return false;
	*out = v;
	return true;
}

namespace {

struct Parser {
	const std::string &s;
	size_t i = 0;
	std::string err;

	bool fail(const char *what) {
		if (err.empty()) err = std::string(what) + " at offset " + std::to_string(i);
		return false;
	}
	void ws() {
		while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
	}
	bool lit(const char *w) {
		size_t n = std::strlen(w);
		if (s.compare(i, n, w) != 0) return fail("invalid literal");
		i += n;
		return true;
	}
	static void utf8(std::string *o, uint32_t cp) {
		if (cp < 0x80) {
			o->push_back(char(cp));
		} else if (cp < 0x800) {
			o->push_back(char(0xc0 | (cp >> 6)));
			o->push_back(char(0x80 | (cp & 0x3f)));
		} else if (cp < 0x10000) {
			o->push_back(char(0xe0 | (cp >> 12)));
			o->push_back(char(0x80 | ((cp >> 6) & 0x3f)));
			o->push_back(char(0x80 | (cp & 0x3f)));
		} else {
			o->push_back(char(0xf0 | (cp >> 18)));
			o->push_back(char(0x80 | ((cp >> 12) & 0x3f)));
			o->push_back(char(0x80 | ((cp >> 6) & 0x3f)));
			o->push_back(char(0x80 | (cp & 0x3f)));
		}
	}
	bool hex4(uint32_t *cp) {
		if (i + 4 > s.size()) return fail("truncated \\u escape");
		uint32_t v = 0;
		for (int k = 0; k < 4; k++) {
			char c = s[i++];
			v <<= 4;
			if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
			else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
			else return fail("bad \\u escape");
		}
		*cp = v;
		return true;
	}
	bool str(std::string *o) {
		i++; // opening quote
		while (i < s.size()) {
			char c = s[i++];
			if (c == '"') return true;
			if (static_cast<unsigned char>(c) < 0x20) return fail("control character in string");
			if (c != '\\') {
				o->push_back(c);
				continue;
			}
			if (i >= s.size()) break;
			char e = s[i++];
			switch (e) {
			case '"': o->push_back('"'); break;
			case '\\': o->push_back('\\'); break;
			case '/': o->push_back('/'); break;
			case 'b': o->push_back('\b'); break;
			case 'f': o->push_back('\f'); break;
			case 'n': o->push_back('\n'); break;
			case 'r': o->push_back('\r'); break;
			case 't': o->push_back('\t'); break;
			case 'u': {
				uint32_t cp = 0;
				if (!hex4(&cp)) return false;
				if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < s.size() && s[i] == '\\' && s[i + 1] == 'u') {
					i += 2;
					uint32_t lo = 0;
					if (!hex4(&lo)) return false;
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				}
				utf8(o, cp);
				break;
			}
			default: return fail("bad escape in string");
			}
		}
		return fail("unterminated string");
	}
	bool num(Json *o) {
		size_t st = i;
		if (s[i] == '-') i++;
		if (i >= s.size() || !(s[i] >= '0' && s[i] <= '9')) return fail("bad number");
		while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == 'e' || s[i] == 'E' ||
		                        s[i] == '+' || s[i] == '-'))
			i++;
		o->kind = Json::Kind::Number;
		o->text = s.substr(st, i - st);
		return true;
	}
	bool value(Json *o, int depth) {
		if (depth > 200) return fail("nesting too deep");
		ws();
		if (i >= s.size()) return fail("unexpected end of input");
		char c = s[i];
		if (c == '{') {
			o->kind = Json::Kind::Object;
			i++;
			ws();
			if (i < s.size() && s[i] == '}') {
				i++;
				return true;
			}
			for (;;) {
				ws();
				if (i >= s.size() || s[i] != '"') return fail("expected a string key");
				std::string k;
				if (!str(&k)) return false;
				ws();
				if (i >= s.size() || s[i] != ':') return fail("expected ':'");
				i++;
				o->fields.emplace_back(std::move(k), Json());
				if (!value(&o->fields.back().second, depth + 1)) return false;
				ws();
				if (i < s.size() && s[i] == ',') {
					i++;
					continue;
				}
				if (i < s.size() && s[i] == '}') {
					i++;
					return true;
				}
				return fail("expected ',' or '}'");
			}
		}
		if (c == '[') {
			o->kind = Json::Kind::Array;
			i++;
			ws();
			if (i < s.size() && s[i] == ']') {
				i++;
				return true;
			}
			for (;;) {
				o->items.emplace_back();
				if (!value(&o->items.back(), depth + 1)) return false;
				ws();
				if (i < s.size() && s[i] == ',') {
					i++;
					continue;
				}
				if (i < s.size() && s[i] == ']') {
					i++;
					return true;
				}
				return fail("expected ',' or ']'");
			}
		}
		if (c == '"') {
			o->kind = Json::Kind::String;
			return str(&o->text);
		}
		if (c == 't') {
			o->kind = Json::Kind::Bool;
			o->b = true;
			return lit("true");
		}
		if (c == 'f') {
			o->kind = Json::Kind::Bool;
			return lit("false");
		}
		if (c == 'n') return lit("null");
		return num(o);
	}
};

} // namespace

bool json_parse(const std::string &src, Json *out, std::string *err) {
	Parser p{src, 0, std::string()};
	*out = Json();
	if (!p.value(out, 0)) {
		*err = p.err;
		return false;
	}
	p.ws();
	if (p.i != src.size()) {
		p.fail("trailing characters");
		*err = p.err;
		return false;
	}
	return true;
}

} // namespace nfp_softnic
