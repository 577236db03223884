// A small subset of C++23 std::expected, so moving to C++23 is a one-line alias change.
#pragma once

#include <type_traits>
#include <utility>
#include <variant>

#include "portmirror/base/check.h"

namespace portmirror {

template <typename E>
class Unexpected {
 public:
  explicit constexpr Unexpected(E e) : error_(std::move(e)) {}
  constexpr const E& error() const& noexcept { return error_; }
  constexpr E&& error() && noexcept { return std::move(error_); }

 private:
  E error_;
};

template <typename E>
Unexpected(E) -> Unexpected<E>;

template <typename E>
constexpr Unexpected<std::decay_t<E>> unexpected(E&& e) {
  return Unexpected<std::decay_t<E>>(std::forward<E>(e));
}

template <typename T, typename E>
class [[nodiscard]] Expected {
 public:
  using value_type = T;
  using error_type = E;

  constexpr Expected() requires std::is_default_constructible_v<T> : v_(std::in_place_index<0>) {}
  constexpr Expected(const T& v) : v_(std::in_place_index<0>, v) {}  // NOLINT: implicit like std
  constexpr Expected(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}  // NOLINT
  template <typename G>
  constexpr Expected(Unexpected<G> u)  // NOLINT
      : v_(std::in_place_index<1>, E(std::move(u).error())) {}

  constexpr bool has_value() const noexcept { return v_.index() == 0; }
  constexpr explicit operator bool() const noexcept { return has_value(); }

  constexpr T& value() & {
    PM_CHECK(has_value());
    return std::get<0>(v_);
  }
  constexpr const T& value() const& {
    PM_CHECK(has_value());
    return std::get<0>(v_);
  }
  constexpr T&& value() && {
    PM_CHECK(has_value());
    return std::get<0>(std::move(v_));
  }
  constexpr const E& error() const& {
    PM_CHECK(!has_value());
    return std::get<1>(v_);
  }
  constexpr E&& error() && {
    PM_CHECK(!has_value());
    return std::get<1>(std::move(v_));
  }
  constexpr T& operator*() & { return value(); }
  constexpr const T& operator*() const& { return value(); }
  constexpr T* operator->() { return &value(); }
  constexpr const T* operator->() const { return &value(); }
  template <typename U>
  constexpr T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, E> v_;
};

// Expected<void, E>: success carries no value.
template <typename E>
class [[nodiscard]] Expected<void, E> {
 public:
  constexpr Expected() = default;
  template <typename G>
  constexpr Expected(Unexpected<G> u) : err_(E(std::move(u).error())), ok_(false) {}  // NOLINT
  constexpr bool has_value() const noexcept { return ok_; }
  constexpr explicit operator bool() const noexcept { return ok_; }
  constexpr const E& error() const& {
    PM_CHECK(!ok_);
    return err_;
  }

 private:
  E err_{};
  bool ok_ = true;
};

}  // namespace portmirror
