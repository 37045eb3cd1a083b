"""Colours shared by the exported figures and the window: class colours and 256-entry
colour-map tables.

The tables are matplotlib's maps sampled at 256 points and rounded to 8 bits, stored here
so the window can colour images without importing matplotlib (about 0.4 s of start-up).
``tests/test_palette.py`` checks them against matplotlib; ``python scripts/palette_tables.py``
prints them afresh if a map is added.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

C_REF = "#2166ac"            # reference (true or predicted) class
C_TGT = "#d6604d"            # target class
C_OTHER = "#bdbdbd"
C_LOSS = "#252525"
C_WORST = "#ff1f5b"
C_POISON_CLEAN = "#1f77b4"     # poisoning: clean test accuracy
C_POISON_ASR = "#d62728"       # poisoning: attack success rate
C_BAD = (0.72, 0.72, 0.72)   # NaN: outside a model's crop / not evaluated
C_WARN = "#9a6700"           # text that flags a doubtful number (the window's warning amber)

DIVERGING = "RdBu_r"         # signed maps: blue negative, white zero, red positive
SEQUENTIAL = "viridis"       # probabilities
MAGNITUDE = "magma"          # unsigned magnitudes

N_COLOURS = 256

# RGBA bytes, row after row, as hex.
_TABLES = {
    "RdBu_r": (
        "053061ff063264ff073467ff08366aff09386dff0a3b70ff0c3d73ff0d3f76ff0e4179ff0f437bff10457eff114781ff"
        "124984ff134c87ff144e8aff15508dff175290ff185493ff195696ff1a5899ff1b5a9cff1c5c9fff1d5fa2ff1e61a5ff"
        "1f63a8ff2065abff2267acff2369adff246aaeff266cafff276eb0ff2870b1ff2a71b2ff2b73b3ff2c75b4ff2e77b5ff"
        "2f79b5ff307ab6ff327cb7ff337eb8ff3480b9ff3681baff3783bbff3885bcff3a87bdff3b88beff3c8abeff3e8cbfff"
        "3f8ec0ff408fc1ff4291c2ff4393c3ff4695c4ff4997c5ff4c99c6ff4f9bc7ff529dc8ff569fc9ff59a1caff5ca3cbff"
        "5fa5cdff62a7ceff65a9cfff68abd0ff6bacd1ff6eaed2ff71b0d3ff75b2d4ff78b4d5ff7bb6d6ff7eb8d7ff81bad8ff"
        "84bcd9ff87bedaff8ac0dbff8dc2dcff90c4ddff93c6deff96c7dfff98c8e0ff9bc9e0ff9dcbe1ffa0cce2ffa2cde3ff"
        "a5cee3ffa7d0e4ffa9d1e5ffacd2e5ffaed3e6ffb1d5e7ffb3d6e8ffb6d7e8ffb8d8e9ffbbdaeaffbddbeaffc0dcebff"
        "c2ddecffc5dfecffc7e0edffcae1eeffcce2efffcfe4efffd1e5f0ffd2e6f0ffd4e6f1ffd5e7f1ffd7e8f1ffd8e9f1ff"
        "dae9f2ffdbeaf2ffddebf2ffdeebf2ffe0ecf3ffe1edf3ffe3edf3ffe4eef4ffe6eff4ffe7f0f4ffe9f0f4ffeaf1f5ff"
        "ecf2f5ffedf2f5ffeff3f5fff0f4f6fff2f5f6fff3f5f6fff5f6f7fff6f7f7fff7f6f6fff7f5f4fff8f4f2fff8f3f0ff"
        "f8f2effff8f1edfff9f0ebfff9efe9fff9eee7fff9ede5fff9ebe3fffaeae1fffae9dffffae8defffae7dcfffbe6daff"
        "fbe5d8fffbe4d6fffbe3d4fffce2d2fffce0d0fffcdfcffffcdecdfffdddcbfffddcc9fffddbc7fffdd9c4fffcd7c2ff"
        "fcd5bffffcd3bcfffbd0b9fffbceb7fffbccb4fffacab1fffac8affff9c6acfff9c4a9fff9c2a7fff8bfa4fff8bda1ff"
        "f8bb9efff7b99cfff7b799fff7b596fff6b394fff6b191fff6af8efff5ac8bfff5aa89fff5a886fff4a683fff3a481ff"
        "f2a17ffff19e7dfff09c7bffef9979ffee9677ffec9374ffeb9172ffea8e70ffe98b6effe8896cffe6866affe58368ff"
        "e48066ffe37e64ffe27b62ffe17860ffdf765effde735cffdd7059ffdc6e57ffdb6b55ffda6853ffd86551ffd7634fff"
        "d6604dffd55d4cffd35a4affd25849ffd05548ffcf5246ffce4f45ffcc4c44ffcb4942ffc94741ffc84440ffc6413eff"
        "c53e3dffc43b3cffc2383affc13639ffbf3338ffbe3036ffbd2d35ffbb2a34ffba2832ffb82531ffb72230ffb61f2eff"
        "b41c2dffb3192cffb1182bffae172affab162affa81529ffa51429ffa21328ff9f1228ff9c1127ff991027ff960f27ff"
        "930e26ff900d26ff8d0c25ff8a0b25ff870a24ff840924ff810823ff7f0823ff7c0722ff790622ff760521ff730421ff"
        "700320ff6d0220ff6a011fff67001fff"
    ),
    "viridis": (
        "440154ff440256ff450457ff450559ff46075aff46085cff460a5dff460b5eff470d60ff470e61ff471063ff471164ff"
        "471365ff481467ff481668ff481769ff48186aff481a6cff481b6dff481c6eff481d6fff481f70ff482071ff482173ff"
        "482374ff482475ff482576ff482677ff482878ff482979ff472a7aff472c7aff472d7bff472e7cff472f7dff46307eff"
        "46327eff46337fff463480ff453581ff453781ff453882ff443983ff443a83ff443b84ff433d84ff433e85ff423f85ff"
        "424086ff424186ff414287ff414487ff404588ff404688ff3f4788ff3f4889ff3e4989ff3e4a89ff3e4c8aff3d4d8aff"
        "3d4e8aff3c4f8aff3c508bff3b518bff3b528bff3a538bff3a548cff39558cff39568cff38588cff38598cff375a8cff"
        "375b8dff365c8dff365d8dff355e8dff355f8dff34608dff34618dff33628dff33638dff32648eff32658eff31668eff"
        "31678eff31688eff30698eff306a8eff2f6b8eff2f6c8eff2e6d8eff2e6e8eff2e6f8eff2d708eff2d718eff2c718eff"
        "2c728eff2c738eff2b748eff2b758eff2a768eff2a778eff2a788eff29798eff297a8eff297b8eff287c8eff287d8eff"
        "277e8eff277f8eff27808eff26818eff26828eff26828eff25838eff25848eff25858eff24868eff24878eff23888eff"
        "23898eff238a8dff228b8dff228c8dff228d8dff218e8dff218f8dff21908dff21918cff20928cff20928cff20938cff"
        "1f948cff1f958bff1f968bff1f978bff1f988bff1f998aff1f9a8aff1e9b8aff1e9c89ff1e9d89ff1f9e89ff1f9f88ff"
        "1fa088ff1fa188ff1fa187ff1fa287ff20a386ff20a486ff21a585ff21a685ff22a785ff22a884ff23a983ff24aa83ff"
        "25ab82ff25ac82ff26ad81ff27ad81ff28ae80ff29af7fff2ab07fff2cb17eff2db27dff2eb37cff2fb47cff31b57bff"
        "32b67aff34b679ff35b779ff37b878ff38b977ff3aba76ff3bbb75ff3dbc74ff3fbc73ff40bd72ff42be71ff44bf70ff"
        "46c06fff48c16eff4ac16dff4cc26cff4ec36bff50c46aff52c569ff54c568ff56c667ff58c765ff5ac864ff5cc863ff"
        "5ec962ff60ca60ff63cb5fff65cb5eff67cc5cff69cd5bff6ccd5aff6ece58ff70cf57ff73d056ff75d054ff77d153ff"
        "7ad151ff7cd250ff7fd34eff81d34dff84d44bff86d549ff89d548ff8bd646ff8ed645ff90d743ff93d741ff95d840ff"
        "98d83eff9bd93cff9dd93bffa0da39ffa2da37ffa5db36ffa8db34ffaadc32ffaddc30ffb0dd2fffb2dd2dffb5de2bff"
        "b8de29ffbade28ffbddf26ffc0df25ffc2df23ffc5e021ffc8e020ffcae11fffcde11dffd0e11cffd2e21bffd5e21aff"
        "d8e219ffdae319ffdde318ffdfe318ffe2e418ffe5e419ffe7e419ffeae51affece51bffefe51cfff1e51dfff4e61eff"
        "f6e620fff8e621fffbe723fffde725ff"
    ),
    "magma": (
        "000004ff010005ff010106ff010108ff020109ff02020bff02020dff03030fff030312ff040414ff050416ff060518ff"
        "06051aff07061cff08071eff090720ff0a0822ff0b0924ff0c0926ff0d0a29ff0e0b2bff100b2dff110c2fff120d31ff"
        "130d34ff140e36ff150e38ff160f3bff180f3dff19103fff1a1042ff1c1044ff1d1147ff1e1149ff20114bff21114eff"
        "221150ff241253ff251255ff271258ff29115aff2a115cff2c115fff2d1161ff2f1163ff311165ff331067ff341069ff"
        "36106bff38106cff390f6eff3b0f70ff3d0f71ff3f0f72ff400f74ff420f75ff440f76ff451077ff471078ff491078ff"
        "4a1079ff4c117aff4e117bff4f127bff51127cff52137cff54137dff56147dff57157eff59157eff5a167eff5c167fff"
        "5d177fff5f187fff601880ff621980ff641a80ff651a80ff671b80ff681c81ff6a1c81ff6b1d81ff6d1d81ff6e1e81ff"
        "701f81ff721f81ff732081ff752181ff762181ff782281ff792282ff7b2382ff7c2382ff7e2482ff802582ff812581ff"
        "832681ff842681ff862781ff882781ff892881ff8b2981ff8c2981ff8e2a81ff902a81ff912b81ff932b80ff942c80ff"
        "962c80ff982d80ff992d80ff9b2e7fff9c2e7fff9e2f7fffa02f7fffa1307effa3307effa5317effa6317dffa8327dff"
        "aa337dffab337cffad347cffae347bffb0357bffb2357bffb3367affb5367affb73779ffb83779ffba3878ffbc3978ff"
        "bd3977ffbf3a77ffc03a76ffc23b75ffc43c75ffc53c74ffc73d73ffc83e73ffca3e72ffcc3f71ffcd4071ffcf4070ff"
        "d0416fffd2426fffd3436effd5446dffd6456cffd8456cffd9466bffdb476affdc4869ffde4968ffdf4a68ffe04c67ff"
        "e24d66ffe34e65ffe44f64ffe55064ffe75263ffe85362ffe95462ffea5661ffeb5760ffec5860ffed5a5fffee5b5eff"
        "ef5d5efff05f5efff1605dfff2625dfff2645cfff3655cfff4675cfff4695cfff56b5cfff66c5cfff66e5cfff7705cff"
        "f7725cfff8745cfff8765cfff9785dfff9795dfff97b5dfffa7d5efffa7f5efffa815ffffb835ffffb8560fffb8761ff"
        "fc8961fffc8a62fffc8c63fffc8e64fffc9065fffd9266fffd9467fffd9668fffd9869fffd9a6afffd9b6bfffe9d6cff"
        "fe9f6dfffea16efffea36ffffea571fffea772fffea973fffeaa74fffeac76fffeae77fffeb078fffeb27afffeb47bff"
        "feb67cfffeb77efffeb97ffffebb81fffebd82fffebf84fffec185fffec287fffec488fffec68afffec88cfffeca8dff"
        "fecc8ffffecd90fffecf92fffed194fffed395fffed597fffed799fffed89afffdda9cfffddc9efffddea0fffde0a1ff"
        "fde2a3fffde3a5fffde5a7fffde7a9fffde9aafffdebacfffcecaefffceeb0fffcf0b2fffcf2b4fffcf4b6fffcf6b8ff"
        "fcf7b9fffcf9bbfffcfbbdfffcfdbfff"
    ),
}


@lru_cache(maxsize=None)
def colour_table(name: str) -> np.ndarray:
    """The map's N_COLOURS x 4 uint8 RGBA table (read-only: the cache shares it)."""
    try:
        hex_bytes = _TABLES[name]
    except KeyError:
        raise KeyError(f"No colour table for {name!r}; known: {', '.join(_TABLES)}") from None
    table = np.frombuffer(bytes.fromhex(hex_bytes), dtype=np.uint8).reshape(N_COLOURS, 4)
    table.setflags(write=False)
    return table


def table_names() -> tuple[str, ...]:
    return tuple(_TABLES)
