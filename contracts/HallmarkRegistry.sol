// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IHallmarkCollection} from "./IHallmarkCollection.sol";
import {IHallmarkRegistry} from "./IHallmarkRegistry.sol";
import {HallmarkCollection} from "./HallmarkCollection.sol";

/// @title Hallmark registry: the bank's on-chain list and factory of official collections
/// @notice A verifier asks `isOfficial(address)`: only contracts this registry created answer true, so a
///         lookalike contract with the same name, symbol and images is told apart from the bank's own.
contract HallmarkRegistry is IHallmarkRegistry, AccessControl {
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");

    /// @notice The collection implementation every clone delegates to.
    address public immutable implementation;

    /// @inheritdoc IHallmarkRegistry
    string public metadataBaseURI;

    address[] private _collections;
    mapping(address collection => bool) private _official;

    /// @notice A new official collection was created.
    event CollectionCreated(
        address indexed collection,
        address indexed creator,
        bytes32 indexed salt,
        string name,
        string symbol,
        uint64 maxSupply,
        IHallmarkCollection.TransferPolicy transferPolicy,
        bytes32 contentRoot
    );

    /// @notice The bank's metadata host changed (ERC-4906 updates follow from each collection's tokenURI).
    event MetadataBaseURIUpdated(string metadataBaseURI);

    /// @notice The implementation address has no code.
    error InvalidImplementation(address implementation);
    /// @notice A zero address was given where an account is required.
    error ZeroAddress(string field);
    /// @notice The index is past the end of the list of collections.
    error IndexOutOfRange(uint256 index, uint256 length);

    /// @param implementation_ A deployed HallmarkCollection (initializers disabled) to clone.
    /// @param admin Receives DEFAULT_ADMIN_ROLE and ISSUER_ROLE.
    /// @param metadataBaseURI_ The bank's metadata host, e.g. "https://nft.bank.example/meta/".
    constructor(address implementation_, address admin, string memory metadataBaseURI_) {
        if (implementation_.code.length == 0) revert InvalidImplementation(implementation_);
        if (admin == address(0)) revert ZeroAddress("admin");
        implementation = implementation_;
        metadataBaseURI = metadataBaseURI_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ISSUER_ROLE, admin);
    }

    /// @notice Create, initialise and list a new collection (an EIP-1167 clone at a CREATE2 address).
    /// @param config The drop's configuration; see IHallmarkCollection.CollectionConfig.
    /// @param salt Chooses the address; `predictCollectionAddress(salt)` gives it in advance so that artwork
    ///        showing the contract can be rendered and committed to before creation.
    /// @return collection The new collection's address.
    function createCollection(IHallmarkCollection.CollectionConfig calldata config, bytes32 salt)
        external
        onlyRole(ISSUER_ROLE)
        returns (address collection)
    {
        if (config.admin == address(0)) revert ZeroAddress("admin");
        if (config.operator == address(0)) revert ZeroAddress("operator");
        collection = Clones.cloneDeterministic(implementation, salt);
        HallmarkCollection(collection).initialize(config);
        _collections.push(collection);
        _official[collection] = true;
        emit CollectionCreated(
            collection,
            _msgSender(),
            salt,
            config.name,
            config.symbol,
            config.maxSupply,
            config.transferPolicy,
            config.contentRoot
        );
    }

    /// @notice The address `createCollection` will use for `salt`.
    function predictCollectionAddress(bytes32 salt) external view returns (address) {
        return Clones.predictDeterministicAddress(implementation, salt);
    }

    /// @notice Move every collection without a base URI of its own to a new metadata host.
    function setMetadataBaseURI(string calldata newBaseURI) external onlyRole(DEFAULT_ADMIN_ROLE) {
        metadataBaseURI = newBaseURI;
        emit MetadataBaseURIUpdated(newBaseURI);
    }

    /// @inheritdoc IHallmarkRegistry
    function isOfficial(address collection) external view returns (bool) {
        return _official[collection];
    }

    /// @notice How many collections this registry has created.
    function collectionCount() external view returns (uint256) {
        return _collections.length;
    }

    /// @notice The `index`-th collection created (in creation order).
    function collectionAt(uint256 index) external view returns (address) {
        if (index >= _collections.length) revert IndexOutOfRange(index, _collections.length);
        return _collections[index];
    }
}
