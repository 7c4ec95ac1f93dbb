import java.io.File;
import java.util.Arrays;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;

/** Loads schemas/ into one Schema.Parser (types/ first, then the events) and prints each event's
 *  CRC-64-AVRO parsing fingerprint as single-object encoding writes it (little-endian hex). */
public class SchemaFolder {
  public static void main(String[] args) throws Exception {
    File dir = new File(args[0]);
    Schema.Parser parser = new Schema.Parser();
    File[] types = new File(dir, "types").listFiles((d, n) -> n.endsWith(".avsc"));
    Arrays.sort(types);
    for (File f : types) parser.parse(f);
    File[] events = dir.listFiles((d, n) -> n.endsWith(".avsc"));
    Arrays.sort(events);
    for (File f : events) {
      long fp = SchemaNormalization.parsingFingerprint64(parser.parse(f));
      System.out.printf("%s %016x%n", f.getName().replace(".avsc", ""), Long.reverseBytes(fp));
    }
  }
}
