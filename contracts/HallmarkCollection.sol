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
    }

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

    /// @notice Mint the next serial to `to`.
    /// @return tokenId The serial minted.
    function mint(address to) external onlyMinter returns (uint256 tokenId) {
        tokenId = _mintBatch(_asSingleton(to));
    }

    /// @notice Mint one token to each recipient, in order, in one transaction.
    /// @return firstTokenId The serial of the first recipient's token; the rest follow consecutively.
    function airdrop(address[] calldata to) external onlyMinter returns (uint256 firstTokenId) {
        firstTokenId = _mintBatch(to);
    }

    function _mintBatch(address[] memory to) private returns (uint256 firstTokenId) {
        uint256 count = to.length;
        if (count == 0) revert EmptyRecipients();
        CollectionStorage storage $ = _storage();
        if ($.paused) revert EnforcedPause();
        uint256 minted = $.totalMinted;
        uint256 remaining = $.maxSupply - minted;
        if (count > remaining) revert SupplyExceeded(count, remaining);

        firstTokenId = minted + 1;
        $.totalMinted = uint32(minted + count);
        TransferPolicy policy = $.transferPolicy;
        if (policy == TransferPolicy.HoldingPeriod) {
            $.mintTimes.push(uint48(firstTokenId), uint208(block.timestamp));
        }
        bool soulbound = policy == TransferPolicy.Soulbound;
        for (uint256 i; i < count; ) {
            uint256 tokenId = firstTokenId + i;
            _mint(to[i], tokenId);
            if (soulbound) emit Locked(tokenId);
            unchecked {
                ++i;
            }
        }
    }

    function _asSingleton(address to) private pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = to;
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
    ///      in `_mintBatch`, sparing a storage read per token), the policy to transfers only.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = super._update(to, tokenId, auth);
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
