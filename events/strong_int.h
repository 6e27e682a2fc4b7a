// Strong types for the domain's integers, so that an offset cannot be passed
// where an amount is expected (after Redpanda's named_type).
//
// A StrongInt only compares and exposes its value; arithmetic on money goes
// through the checked helpers of money.h so that overflow is never silent.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace homeward {

template <typename Rep, typename Tag>
class StrongInt {
 public:
  using rep = Rep;
  constexpr StrongInt() = default;
  constexpr explicit StrongInt(Rep value) : value_(value) {}
  [[nodiscard]] constexpr Rep value() const { return value_; }
  constexpr auto operator<=>(const StrongInt&) const = default;

 private:
  Rep value_ = 0;
};

// Money in the currency's minor unit (cents for USD, yen for JPY, fils for KWD).
using MinorUnits = StrongInt<int64_t, struct MinorUnitsTag>;
// A UTC instant in microseconds since 1970-01-01T00:00:00Z.
using TimestampMicros = StrongInt<int64_t, struct TimestampMicrosTag>;
// A record's position inside one log partition.
using Offset = StrongInt<int64_t, struct OffsetTag>;
// A log partition (Kafka partition; the embedded log has only partition 0).
using Partition = StrongInt<int32_t, struct PartitionTag>;

}  // namespace homeward

template <typename Rep, typename Tag>
struct std::hash<homeward::StrongInt<Rep, Tag>> {
  size_t operator()(const homeward::StrongInt<Rep, Tag>& v) const noexcept {
    return std::hash<Rep>{}(v.value());
  }
};
