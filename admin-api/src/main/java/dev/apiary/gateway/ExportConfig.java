package dev.apiary.gateway;

import dev.apiary.chap.ChapCredentials;
import dev.apiary.chap.ChapSecret;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * What every gateway exports: the gateways themselves (each one target port group) and the
 * worker targets with their credentials, LUNs and each LUN's owner gateway. The API node builds
 * it from the inventory; a gateway receives it as JSON, keeps the last one on disk (sealed, for
 * it holds CHAP secrets) and serves it while the API node is away. Validated when built, so a
 * gateway refuses a malformed document as a whole and keeps serving what it had.
 */
public record ExportConfig(List<Gateway> gateways, List<Target> targets) {
    /** One gateway: its name, its target port group (and relative port), its portal, and whether it is alive. */
    public record Gateway(String name, int group, String portal, boolean up) {
        public Gateway {
            need(name != null && name.matches("[a-z0-9][a-z0-9.-]{0,63}"), "gateway name " + name);
            need(group >= 1 && group <= 0xffff, "gateway " + name + ": port group " + group);
            need(portal != null && !portal.isBlank(), "gateway " + name + ": portal");
        }
    }

    /** One worker target: who may log in, with which secrets, and its LUNs. */
    public record Target(String iqn, String initiator, String chapUser, String chapSecret, String mutualUser,
            String mutualSecret, List<Lun> luns) {
        public Target {
            need(iqn != null && iqn.startsWith("iqn."), "target IQN " + iqn);
            need(initiator != null && initiator.startsWith("iqn."), iqn + ": initiator " + initiator);
            need(chapUser != null && chapSecret != null && mutualUser != null && mutualSecret != null,
                    iqn + ": CHAP credentials");
            need(luns != null, iqn + ": LUNs");
            luns = List.copyOf(luns);
        }

        public ChapCredentials chap() {
            return new ChapCredentials(chapUser, ChapSecret.of(chapSecret));
        }

        public ChapCredentials mutual() {
            return new ChapCredentials(mutualUser, ChapSecret.of(mutualSecret));
        }

        @Override
        public String toString() { // never the secrets
            return "Target[" + iqn + ", initiator " + initiator + ", " + luns + "]";
        }
    }

    /** One LUN of a target: its number, its volume in the store, and the gateway that owns it. */
    public record Lun(int lun, String volume, String owner) {
        public Lun {
            need(lun >= 0 && lun < 16384, "LUN " + lun);
            need(volume != null && !volume.isBlank(), "LUN " + lun + ": volume");
        }
    }

    public ExportConfig {
        need(gateways != null && targets != null, "document: it needs gateways and targets");
        gateways = List.copyOf(gateways);
        targets = List.copyOf(targets);
        Set<String> names = new HashSet<>();
        Set<Integer> groups = new HashSet<>();
        for (Gateway g : gateways) {
            need(names.add(g.name()) && groups.add(g.group()), "gateway " + g.name() + " or its port group is listed twice");
        }
        Set<String> iqns = new HashSet<>();
        for (Target t : targets) {
            need(iqns.add(t.iqn()), "target " + t.iqn() + " is listed twice");
            Set<Integer> luns = new HashSet<>();
            for (Lun l : t.luns()) {
                need(luns.add(l.lun()), t.iqn() + ": LUN " + l.lun() + " is listed twice");
                need(l.owner() == null || names.contains(l.owner()), t.iqn() + ": LUN " + l.lun()
                        + " is owned by an unknown gateway " + l.owner());
            }
        }
    }

    public java.util.Optional<Gateway> gateway(String name) {
        return gateways.stream().filter(g -> g.name().equals(name)).findFirst();
    }

    /** A digest of the whole document: a gateway fetches the configuration only when this changes. */
    public String digest() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(Json.MAPPER.writeValueAsBytes(this));
            return HexFormat.of().formatHex(md.digest(), 0, 16);
        } catch (NoSuchAlgorithmException | com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void need(boolean ok, String what) {
        if (!ok) {
            throw new IllegalArgumentException("export configuration: bad " + what);
        }
    }

    /** The one mapper for the document, so the digest is the same on every node. */
    static final class Json {
        static final com.fasterxml.jackson.databind.ObjectMapper MAPPER = new com.fasterxml.jackson.databind.ObjectMapper()
                .configure(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);

        private Json() {}
    }

    public byte[] toJson() {
        try {
            return Json.MAPPER.writeValueAsBytes(this);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses and validates; any fault is an IllegalArgumentException naming it. */
    public static ExportConfig fromJson(byte[] json) {
        try {
            ExportConfig c = Json.MAPPER.readValue(json, ExportConfig.class);
            if (c == null) {
                throw new IllegalArgumentException("export configuration: empty document");
            }
            return c;
        } catch (java.io.IOException e) {
            Throwable cause = e.getCause() instanceof IllegalArgumentException ? e.getCause() : e;
            throw new IllegalArgumentException(cause.getMessage().startsWith("export configuration")
                    ? cause.getMessage() : "export configuration: " + firstLine(cause.getMessage()), e);
        }
    }

    private static String firstLine(String s) {
        return s == null ? "unreadable" : s.lines().findFirst().orElse(s);
    }
}
