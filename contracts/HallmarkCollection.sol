// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC721/ERC721Upgradeable.sol";
import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {ERC2981Upgradeable} from "@openzeppelin/contracts-upgradeable/token/common/ERC2981Upgradeable.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {BitMaps} from "@openzeppelin/contracts/utils/structs/BitMaps.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {IERC4906} from "@openzeppelin/contracts/interfaces/IERC4906.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IHallmarkCollection} from "./IHallmarkCollection.sol";
import {IHallmarkRegistry} from "./IHallmarkRegistry.sol";

/// @title Hallmark collection: one bank drop of numbered ERC-721 collectibles
/// @notice Token IDs are serials 1..maxSupply, assigned in mint order. Deployed as EIP-1167 clones by
///         HallmarkRegistry, so every official collection shares this audited implementation.
/// @dev Content commitment: `contentRoot` is fixed at creation and is the root of a Merkle tree (OpenZeppelin
///      StandardMerkleTree layout: sorted pairs, double-hashed leaves) over every serial 1..maxSupply, with
///      leaf = keccak256(bytes.concat(keccak256(abi.encode(uint256 serial, bytes32 imageSha256, bytes32 metadataSha256)))).
///      Because the artwork is rendered deterministically before the drop exists (the clone address is
///      predicted with CREATE2), anyone holding an item's image and metadata can check them against the chain
///      with `verifyContent`, and minting never writes per-token content data.
///      Holding periods: one checkpoint (first serial of the mint call => timestamp) per minting transaction
///      instead of a per-token timestamp, so a batch of 500 pays one extra storage write, not 500.
///
///      Packed airdrops (SSTORE2, as showtime-xyz's SS2ERC721): `airdrop` of 2..MAX_PACKED_BATCH recipients
///      writes no per-token storage. It CREATEs one data contract whose runtime code is `0x00` (STOP, so the
///      contract cannot be run) followed by the recipients as packed 20-byte addresses, emits the standard
///      `Transfer(0, to, id)` per token (and ERC-5192 `Locked(id)` for soulbound drops) and appends one
///      `PackedBatch{first, count, pointer}` (one slot) to `CollectionStorage.batches`.
///      Storage layout (ERC-7201 namespace `hallmark.storage.HallmarkCollection`; new fields appended after
///      `redeemed`, so no earlier slot moved): `batches` (PackedBatch[], ordered by `first`, ranges disjoint)
///      and `moved` (bitmap over serials: a packed token whose owner was written to ERC721 storage, by its
///      first transfer or its burn).
///      Invariants:
///        I1 owner(id) = ERC721 `_owners[id]` if non-zero; else, when id lies in a batch and `moved[id]` is
///           unset, the batch's id-th address; else none (never minted, or burned).
///        I2 `moved[id]` is only ever set for ids inside a batch, and never cleared: a burned packed token
///           never reappears.
///        I3 ERC721 `_balances[a]` counts the tokens whose owner is written in storage; balanceOf(a) adds the
///           packed tokens still at `a` (in a batch, not moved). A packed token's first transfer or burn first
///           adds 1 to `_balances[from]` (`_increaseBalance`), then OpenZeppelin's `_update` subtracts it.
///        I4 totalMinted = the last serial issued; every serial <= totalMinted is storage-minted (by `mint`, or
///           an airdrop of one) or in exactly one batch. totalSupply = totalMinted - totalBurned.
///      Gas (bench/gas.py, one run on Ganache 7.9.2, solc 0.8.30, 200 runs; baseline: bare OpenZeppelin `_mint`
///      loop at 47,543 per token):
///        airdrop of 1,000, transferable: 6,532 per recipient; soulbound: 7,555 (the `Locked` log);
///        holding period: 6,577; a lone `mint` to a new holder: 78,721 (an airdrop of one is a storage mint too);
///        a packed token's first transfer to a new holder: 113,127 (writes its owner, the `moved` bit and both
///        balances; a storage-minted token's: 60,898; bare OpenZeppelin: 55,078); later transfers as any token;
///        ownerOf of a packed token: a binary search over the batches plus one 20-byte EXTCODECOPY, 33,409 with
///        100 batches (eth_call);
///        balanceOf (a view): the stored balance plus a scan of every batch's code, about 147 gas per packed
///        token: 14.7M with 100 batches of 1,000 (eth_call only; contracts should not call it).
contract HallmarkCollection is
    IHallmarkCollection,
    IERC4906,
    ERC721Upgradeable,
    ERC2981Upgradeable,
    AccessControlUpgradeable
{
    using Checkpoints for Checkpoints.Trace208;
    using BitMaps for BitMaps.BitMap;

    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    bytes32 public constant REDEEMER_ROLE = keccak256("REDEEMER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @dev ERC-5192 (minimal soulbound) interface id.
    bytes4 private constant _ERC5192_ID = 0xb45a3c0e;
    /// @dev ERC-4906 (metadata update) interface id, as OpenZeppelin's ERC721URIStorage reports it.
    bytes4 private constant _ERC4906_ID = 0x49064906;

    /// @custom:storage-location erc7201:hallmark.storage.HallmarkCollection
    struct CollectionStorage {
        // hot slot: everything a mint reads, in one cold SLOAD
        uint32 maxSupply;
        uint32 totalMinted;
        TransferPolicy transferPolicy;
        bool paused;
        // the operator given MINTER_ROLE at creation, cached so its mints skip a cold role lookup;
        // cleared when that role is revoked, after which AccessControl alone decides
        address operator;
        // cold data
        uint64 holdingPeriod;
        uint64 totalBurned;
        address registry;
        bytes32 contentRoot;
        string baseURI;
        Checkpoints.Trace208 mintTimes;
        BitMaps.BitMap redeemed;
        // packed airdrops (appended: no earlier field moved), see the contract's dev notes
        PackedBatch[] batches;
        BitMaps.BitMap moved;
    }

    /// @dev One packed airdrop: serials first..first+count-1 belong, in order, to the 20-byte addresses at
    ///      offset 1 of `pointer`'s code. One storage slot.
    struct PackedBatch {
        uint32 first;
        uint32 count;
        address pointer;
    }

    /// @notice Most recipients of one packed airdrop: (24,576 - 1) / 20 = 1,228 fit EIP-170's code size cap.
    uint256 public constant MAX_PACKED_BATCH = 1200;

    // keccak256(abi.encode(uint256(keccak256("hallmark.storage.HallmarkCollection")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _STORAGE_SLOT = 0x54b061d6f117107508630277857f972b28205a47c7a3f10a72fd95172a0c0100;

    /// @notice ERC-5192: emitted when a token becomes locked (every soulbound token, at mint).
    event Locked(uint256 tokenId);
    /// @notice ERC-5192: emitted when a token becomes unlocked (never, for Hallmark policies).
    event Unlocked(uint256 tokenId);
    /// @notice A holder's perk attached to `tokenId` was used; the token itself stays.
    event Redeemed(uint256 indexed tokenId, address indexed holder, address indexed by);
    /// @notice The base URI that `tokenURI` prefixes to every serial changed.
    event BaseURIUpdated(string baseURI);

    /// @notice Minting, transfers, burns and redemptions were stopped by `account` (as OpenZeppelin Pausable).
    event Paused(address account);
    /// @notice `account` lifted the pause.
    event Unpaused(address account);

    /// @notice The collection is paused.
    error EnforcedPause();
    /// @notice The collection is not paused.
    error ExpectedPause();
    /// @notice A mint would take the collection past its edition size.
    error SupplyExceeded(uint256 requested, uint256 remaining);
    /// @notice An airdrop was called with no recipients.
    error EmptyRecipients();
    /// @notice The edition size given at creation is zero or above 2^32 - 1.
    error InvalidMaxSupply();
    /// @notice A holding-period policy was given without a period, or a period without that policy.
    error InvalidHoldingPeriod();
    /// @notice A soulbound token cannot be transferred.
    error TokenLocked(uint256 tokenId);
    /// @notice A holding-period token cannot be transferred before `unlocksAt`.
    error HoldingPeriodActive(uint256 tokenId, uint256 unlocksAt);
    /// @notice The token's perk was already redeemed.
    error AlreadyRedeemed(uint256 tokenId);
    /// @notice The caller is neither the owner nor approved for the token.
    error NotOwnerNorApproved(address caller, uint256 tokenId);
    /// @notice A packed airdrop holds at most `max` recipients (its data contract is capped at 24,576 bytes).
    error BatchTooLarge(uint256 count, uint256 max);
    /// @notice The data contract of a packed airdrop could not be created.
    error BatchWriteFailed();

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /// @notice Set up a freshly cloned collection. Called once, by the registry, in the clone's creation call.
    /// @param config The drop's configuration; `admin` receives DEFAULT_ADMIN_ROLE, `operator` the minter,
    ///        redeemer and pauser roles.
    function initialize(CollectionConfig calldata config) external initializer {
        if (config.maxSupply == 0 || config.maxSupply > type(uint32).max) revert InvalidMaxSupply();
        if ((config.transferPolicy == TransferPolicy.HoldingPeriod) != (config.holdingPeriod > 0)) {
            revert InvalidHoldingPeriod();
        }
        __ERC721_init(config.name, config.symbol);
        if (config.royaltyReceiver != address(0)) _setDefaultRoyalty(config.royaltyReceiver, config.royaltyBps);

        CollectionStorage storage $ = _storage();
        $.maxSupply = uint32(config.maxSupply);
        $.operator = config.operator;
        $.transferPolicy = config.transferPolicy;
        $.holdingPeriod = config.holdingPeriod;
        $.contentRoot = config.contentRoot;
        $.baseURI = config.baseURI;
        $.registry = msg.sender;

        _grantRole(DEFAULT_ADMIN_ROLE, config.admin);
        _grantRole(MINTER_ROLE, config.operator);
        _grantRole(REDEEMER_ROLE, config.operator);
        _grantRole(PAUSER_ROLE, config.operator);
    }

    // ------------------------------------------------------------------ minting

    /// @notice Mint the next serial to `to` (one storage write of its owner: a plain OpenZeppelin `_mint`).
    /// @return tokenId The serial minted.
    function mint(address to) external onlyMinter returns (uint256 tokenId) {
        tokenId = _storageMint(to);
    }

    /// @notice Mint one token to each recipient, in order, in one transaction: 2..MAX_PACKED_BATCH recipients
    ///         as one packed batch (see the contract's dev notes), one recipient as `mint` does.
    /// @return firstTokenId The serial of the first recipient's token; the rest follow consecutively.
    function airdrop(address[] calldata to) external onlyMinter returns (uint256 firstTokenId) {
        uint256 count = to.length;
        if (count == 0) revert EmptyRecipients();
        if (count == 1) return _storageMint(to[0]);
        if (count > MAX_PACKED_BATCH) revert BatchTooLarge(count, MAX_PACKED_BATCH);
        CollectionStorage storage $ = _storage();
        firstTokenId = _reserve($, count);
        $.totalMinted = uint32(firstTokenId - 1 + count);
        address pointer = _writeBatch(to, firstTokenId, $.transferPolicy == TransferPolicy.Soulbound);
        $.batches.push(PackedBatch({first: uint32(firstTokenId), count: uint32(count), pointer: pointer}));
    }

    /// @dev Pause and supply checks and the holding-period checkpoint for `count` new serials from the returned one.
    function _reserve(CollectionStorage storage $, uint256 count) private returns (uint256 firstTokenId) {
        if ($.paused) revert EnforcedPause();
        uint256 minted = $.totalMinted;
        uint256 remaining = $.maxSupply - minted;
        if (count > remaining) revert SupplyExceeded(count, remaining);
        firstTokenId = minted + 1;
        if ($.transferPolicy == TransferPolicy.HoldingPeriod) {
            $.mintTimes.push(uint48(firstTokenId), uint208(block.timestamp));
        }
    }

    /// @dev `totalMinted` is raised after `_mint`, so `_ownerOf` sees the new serial as above totalMinted and
    ///      answers without looking at the packed batches (a lone mint stays under 80,000 gas).
    function _storageMint(address to) private returns (uint256 tokenId) {
        CollectionStorage storage $ = _storage();
        tokenId = _reserve($, 1);
        _mint(to, tokenId);
        $.totalMinted = uint32(tokenId);
        if ($.transferPolicy == TransferPolicy.Soulbound) emit Locked(tokenId);
    }

    /// @dev Builds init code + runtime code in free memory, emitting each token's events on the way, and
    ///      CREATEs the data contract. Runtime code: 0x00 then the packed recipients. Init code (12 bytes):
    ///      PUSH2 len DUP1 PUSH1 0x0c PUSH1 0 CODECOPY PUSH1 0 RETURN.
    function _writeBatch(address[] calldata to, uint256 firstTokenId, bool soulbound)
        private
        returns (address pointer)
    {
        uint256 bad;
        assembly ("memory-safe") {
            let n := to.length
            let codeLen := add(1, mul(n, 20))
            let m := mload(0x40)
            // 61 LLLL 80 600c 6000 39 6000 f3 | 00
            mstore(m, shl(152, or(or(shl(96, 0x61), shl(80, codeLen)), 0x80600c6000396000f300)))
            let p := add(m, 13)
            let src := to.offset
            let end := add(src, mul(n, 32))
            let id := firstTokenId
            for {} lt(src, end) {} {
                let a := calldataload(src)
                // dirty upper bits or the zero address: reverted below, after the loop
                bad := or(bad, or(shr(160, a), iszero(a)))
                mstore(p, shl(96, a))
                log4(0, 0, 0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef, 0, a, id)
                if soulbound {
                    mstore(0, id)
                    log1(0, 32, 0x032bc66be43dbccb7487781d168eb7bda224628a3b2c3388bdf69b532a3a1611)
                }
                p := add(p, 20)
                src := add(src, 32)
                id := add(id, 1)
            }
            if iszero(bad) { pointer := create(0, m, add(12, codeLen)) }
        }
        if (bad != 0) revert ERC721InvalidReceiver(address(0));
        if (pointer == address(0)) revert BatchWriteFailed();
    }

    /// @notice Burn `tokenId`. Allowed to its owner or an approved operator, under any policy.
    function burn(uint256 tokenId) external {
        address owner = _requireOwned(tokenId);
        if (!_isAuthorized(owner, _msgSender(), tokenId)) revert NotOwnerNorApproved(_msgSender(), tokenId);
        _burn(tokenId);
        unchecked {
            _storage().totalBurned += 1;
        }
    }

    // ------------------------------------------------------------------ transfer policy

    /// @dev The one hook for mint, transfer and burn: pause applies to all three (mints check it once per batch
    ///      in `_reserve`, sparing a storage read per token), the policy to transfers only.
    ///      A packed token's first transfer or burn materialises it: OpenZeppelin's `_update` reads the packed
    ///      owner through `_ownerOf`, subtracts one from its stored balance (raised by one here first) and writes
    ///      the new owner (or zero, for a burn); the `moved` bit then retires the packed entry (I2, I3).
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        bool packed;
        if (super._ownerOf(tokenId) == address(0)) {
            address packedOwner = _packedOwner(tokenId);
            if (packedOwner != address(0)) {
                packed = true;
                _increaseBalance(packedOwner, 1);
            }
        }
        from = super._update(to, tokenId, auth);
        if (packed) _storage().moved.set(tokenId);
        if (from == address(0)) return from;
        if (_storage().paused) revert EnforcedPause();
        if (to != address(0)) {
            TransferPolicy policy = _storage().transferPolicy;
            if (policy == TransferPolicy.Soulbound) revert TokenLocked(tokenId);
            if (policy == TransferPolicy.HoldingPeriod) {
                uint256 unlocksAt = unlockTime(tokenId);
                if (block.timestamp < unlocksAt) revert HoldingPeriodActive(tokenId, unlocksAt);
            }
        }
    }

    /// @notice ERC-5192: whether `tokenId` cannot be transferred now (soulbound, or inside its holding period).
    function locked(uint256 tokenId) external view returns (bool) {
        _requireOwned(tokenId);
        TransferPolicy policy = _storage().transferPolicy;
        if (policy == TransferPolicy.Soulbound) return true;
        if (policy == TransferPolicy.HoldingPeriod) return block.timestamp < unlockTime(tokenId);
        return false;
    }

    /// @notice When `tokenId` was minted, for holding-period drops (0 for other policies, which keep no record).
    function mintedAt(uint256 tokenId) public view returns (uint256) {
        return _storage().mintTimes.upperLookupRecent(uint48(tokenId));
    }

    /// @notice The time from which `tokenId` can be transferred: 0 when it never was held back.
    function unlockTime(uint256 tokenId) public view returns (uint256) {
        CollectionStorage storage $ = _storage();
        if ($.transferPolicy != TransferPolicy.HoldingPeriod) return 0;
        return mintedAt(tokenId) + $.holdingPeriod;
    }

    // ------------------------------------------------------------------ redemption

    /// @notice Mark the perk attached to `tokenId` as used. The token is not burned.
    function redeem(uint256 tokenId) external onlyRole(REDEEMER_ROLE) {
        CollectionStorage storage $ = _storage();
        if ($.paused) revert EnforcedPause();
        address holder = _requireOwned(tokenId);
        if ($.redeemed.get(tokenId)) revert AlreadyRedeemed(tokenId);
        $.redeemed.set(tokenId);
        emit Redeemed(tokenId, holder, _msgSender());
        emit MetadataUpdate(tokenId);
    }

    /// @notice Whether the perk attached to `tokenId` was redeemed.
    function isRedeemed(uint256 tokenId) external view returns (bool) {
        return _storage().redeemed.get(tokenId);
    }

    // ------------------------------------------------------------------ content commitment

    /// @notice The Merkle root committing to every serial's artwork and metadata, fixed at creation.
    function contentRoot() external view returns (bytes32) {
        return _storage().contentRoot;
    }

    /// @notice Check an item's artwork and metadata hashes against the on-chain commitment.
    /// @param serial The token id the content belongs to (it need not be minted yet).
    /// @param imageSha256 SHA-256 of the item's image file.
    /// @param metadataSha256 SHA-256 of the item's metadata JSON document.
    /// @param proof Merkle proof from the leaf to `contentRoot`.
    function verifyContent(uint256 serial, bytes32 imageSha256, bytes32 metadataSha256, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(serial, imageSha256, metadataSha256))));
        return MerkleProof.verifyCalldata(proof, _storage().contentRoot, leaf);
    }

    // ------------------------------------------------------------------ metadata and admin

    /// @notice The drop's state in one call: supply, policy, pause and commitment.
    function dropDetails() external view returns (DropDetails memory) {
        CollectionStorage storage $ = _storage();
        return DropDetails({
            maxSupply: $.maxSupply,
            totalMinted: $.totalMinted,
            totalBurned: $.totalBurned,
            transferPolicy: $.transferPolicy,
            holdingPeriod: $.holdingPeriod,
            paused: $.paused,
            contentRoot: $.contentRoot,
            registry: $.registry
        });
    }

    /// @notice Edition size.
    function maxSupply() external view returns (uint256) {
        return _storage().maxSupply;
    }

    /// @notice Tokens minted so far (including burned ones): the last serial issued.
    function totalMinted() external view returns (uint256) {
        return _storage().totalMinted;
    }

    /// @notice Tokens in existence.
    function totalSupply() external view returns (uint256) {
        CollectionStorage storage $ = _storage();
        return $.totalMinted - $.totalBurned;
    }

    /// @notice The transfer policy fixed at creation.
    function transferPolicy() external view returns (TransferPolicy) {
        return _storage().transferPolicy;
    }

    /// @notice The registry that created this collection.
    function registry() external view returns (address) {
        return _storage().registry;
    }

    /// @notice Give this collection a metadata host of its own ("" falls back to the registry's); emits
    ///         ERC-4906 BatchMetadataUpdate for all tokens.
    function setBaseURI(string calldata newBaseURI) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _storage().baseURI = newBaseURI;
        emit BaseURIUpdated(newBaseURI);
        emit BatchMetadataUpdate(1, type(uint256).max);
    }

    /// @notice Change the ERC-2981 royalty for every token.
    function setDefaultRoyalty(address receiver, uint96 feeNumerator) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDefaultRoyalty(receiver, feeNumerator);
    }

    /// @notice Stop minting, transfers, burns and redemptions.
    function pause() external onlyRole(PAUSER_ROLE) {
        CollectionStorage storage $ = _storage();
        if ($.paused) revert EnforcedPause();
        $.paused = true;
        emit Paused(_msgSender());
    }

    /// @notice Resume after `pause`.
    function unpause() external onlyRole(PAUSER_ROLE) {
        CollectionStorage storage $ = _storage();
        if (!$.paused) revert ExpectedPause();
        $.paused = false;
        emit Unpaused(_msgSender());
    }

    /// @notice Whether the collection is paused.
    function paused() external view returns (bool) {
        return _storage().paused;
    }

    /// @dev Mint permission: the cached operator, or any other MINTER_ROLE holder.
    modifier onlyMinter() {
        if (_msgSender() != _storage().operator) _checkRole(MINTER_ROLE);
        _;
    }

    /// @dev Keeps the operator cache honest: revoking (or renouncing) its MINTER_ROLE clears it.
    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked && role == MINTER_ROLE && account == _storage().operator) _storage().operator = address(0);
    }

    /// @dev A collection's own base URI if it has one, else the registry's metadata host plus this address:
    ///      storing no URI at creation keeps a drop's creation cheap.
    function _baseURI() internal view override returns (string memory) {
        CollectionStorage storage $ = _storage();
        string memory own = $.baseURI;
        if (bytes(own).length != 0) return own;
        return string.concat(
            IHallmarkRegistry($.registry).metadataBaseURI(), Strings.toHexString(address(this)), "/"
        );
    }

    // ------------------------------------------------------------------ packed owners

    /// @dev I1: the stored owner, else the packed one. Serials above totalMinted answer without a batch lookup.
    function _ownerOf(uint256 tokenId) internal view override returns (address) {
        address owner = super._ownerOf(tokenId);
        if (owner != address(0)) return owner;
        return _packedOwner(tokenId);
    }

    /// @dev The owner a packed token still has from its batch: zero when it is not in a batch, or was moved.
    function _packedOwner(uint256 tokenId) private view returns (address owner) {
        CollectionStorage storage $ = _storage();
        if (tokenId == 0 || tokenId > $.totalMinted) return address(0);
        PackedBatch[] storage batches = $.batches;
        uint256 lo;
        uint256 hi = batches.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) >> 1;
            if (batches[mid].first <= tokenId) lo = mid + 1;
            else hi = mid;
        }
        if (lo == 0) return address(0);
        PackedBatch memory batch = batches[lo - 1];
        uint256 index = tokenId - batch.first;
        if (index >= batch.count || $.moved.get(tokenId)) return address(0);
        address pointer = batch.pointer;
        assembly ("memory-safe") {
            extcodecopy(pointer, 0, add(1, mul(index, 20)), 20)
            owner := shr(96, mload(0))
        }
    }

    /// @notice Tokens held by `owner`: its stored balance plus its packed tokens not yet moved (I3).
    /// @dev A view that scans every batch's code: about 147 gas per packed token (14.7M gas with 100 batches of
    ///      1,000). Meant for eth_call; contracts should not call it.
    function balanceOf(address owner) public view override(ERC721Upgradeable, IERC721) returns (uint256 balance) {
        balance = super.balanceOf(owner);
        CollectionStorage storage $ = _storage();
        PackedBatch[] storage batches = $.batches;
        uint256 n = batches.length;
        for (uint256 b; b < n; ++b) {
            PackedBatch memory batch = batches[b];
            uint256 count = batch.count;
            address pointer = batch.pointer;
            uint256 buf;
            assembly ("memory-safe") {
                buf := mload(0x40)
                extcodecopy(pointer, buf, 1, mul(count, 20))
            }
            for (uint256 i; i < count; ) {
                address at;
                assembly ("memory-safe") {
                    at := shr(96, mload(add(buf, mul(i, 20))))
                }
                if (at == owner && !$.moved.get(batch.first + i)) ++balance;
                unchecked {
                    ++i;
                }
            }
        }
    }

    /// @notice ERC-165: ERC-721, ERC-721 Metadata, ERC-2981, ERC-4906, ERC-5192 and AccessControl.
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721Upgradeable, ERC2981Upgradeable, AccessControlUpgradeable, IERC165)
        returns (bool)
    {
        return interfaceId == _ERC5192_ID || interfaceId == _ERC4906_ID || super.supportsInterface(interfaceId);
    }

    function _storage() private pure returns (CollectionStorage storage $) {
        assembly {
            $.slot := _STORAGE_SLOT
        }
    }
}
