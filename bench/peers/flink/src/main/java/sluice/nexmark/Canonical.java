package sluice.nexmark;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Arrays;
import java.util.List;

/**
 * Result rows and their checksum, by the rules of bench/nexmark/checksum.ts: canonical JSON
 * (keys sorted, integers in decimal, other numbers with three decimals rounded half up from
 * the exact binary value), 32-bit FNV-1a over UTF-16 code units, row hashes sorted unsigned
 * and hashed again over their little-endian bytes.
 */
final class Canonical {
  private Canonical() {}

  /** A result row: alternating field names and values. */
  static final class Row {
    final Object[] kv;

    Row(Object[] kv) { this.kv = kv; }

    String canonical() {
      int n = kv.length / 2;
      Integer[] order = new Integer[n];
      for (int i = 0; i < n; i++) order[i] = i;
      Arrays.sort(order, (a, b) -> ((String) kv[2 * a]).compareTo((String) kv[2 * b]));
      StringBuilder sb = new StringBuilder(256).append('{');
      for (int i = 0; i < n; i++) {
        if (i > 0) sb.append(',');
        string(sb, (String) kv[2 * order[i]]);
        sb.append(':');
        value(sb, kv[2 * order[i] + 1]);
      }
      return sb.append('}').toString();
    }
  }

  static Row row(Object... kv) {
    return new Row(kv);
  }

  static void value(StringBuilder sb, Object v) {
    if (v == null) sb.append("null");
    else if (v instanceof String s) string(sb, s);
    else if (v instanceof Long || v instanceof Integer) sb.append(v);
    else if (v instanceof Double d) {
      if (d == Math.rint(d) && !Double.isInfinite(d)) sb.append((long) (double) d);
      else sb.append(new BigDecimal(d).setScale(3, RoundingMode.HALF_UP).toPlainString());
    } else throw new IllegalArgumentException("no canonical form for " + v.getClass());
  }

  static void string(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') sb.append('\\').append(c);
      else if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
      else sb.append(c);
    }
    sb.append('"');
  }

  static int fnv1a(String text) {
    int h = 0x811c9dc5;
    for (int i = 0; i < text.length(); i++) {
      h ^= text.charAt(i);
      h *= 0x01000193;
    }
    return h;
  }

  /** "rows hash" of a list of rows, as checksum.ts computes it. */
  static String[] checksum(List<Object> rows) {
    long[] hashes = new long[rows.size()];
    for (int i = 0; i < hashes.length; i++) {
      Object r = rows.get(i);
      Row row = r instanceof Model.Event e ? e.row() : (Row) r;
      hashes[i] = fnv1a(row.canonical()) & 0xffffffffL;
    }
    Arrays.sort(hashes);
    int h = 0x811c9dc5;
    for (long v : hashes) {
      for (int shift = 0; shift < 32; shift += 8) {
        h ^= (int) ((v >>> shift) & 0xff);
        h *= 0x01000193;
      }
    }
    return new String[] {String.valueOf(hashes.length), String.format("%08x", h)};
  }
}
